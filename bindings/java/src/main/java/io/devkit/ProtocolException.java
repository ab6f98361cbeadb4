// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_EPROTO}: the peer broke its protocol (not java.net's). */
public class ProtocolException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message, int code) {
        super(message, code);
    }
}
