// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_ECONNREFUSED}: the far side refused or is unreachable. */
public class ConnectionRefusedException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public ConnectionRefusedException(String message, int code) {
        super(message, code);
    }
}
