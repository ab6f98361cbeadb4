// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_EFORBIDDEN}: authenticated, but not allowed. */
public class ForbiddenException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public ForbiddenException(String message, int code) {
        super(message, code);
    }
}
