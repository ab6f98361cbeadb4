// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_EAUTH}: the bastion accepted none of the credentials offered; the message lists the methods it offers. */
public class AuthException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public AuthException(String message, int code) {
        super(message, code);
    }
}
