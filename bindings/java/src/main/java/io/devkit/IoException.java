// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_EIO}: socket or file I/O failed. */
public class IoException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public IoException(String message, int code) {
        super(message, code);
    }
}
