// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_ENOMEM}: the library ran out of memory. */
public class NoMemoryException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public NoMemoryException(String message, int code) {
        super(message, code);
    }
}
