// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_ECLOSED}: the object or its context is closed. */
public class ClosedException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public ClosedException(String message, int code) {
        super(message, code);
    }
}
