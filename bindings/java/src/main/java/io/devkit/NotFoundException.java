// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_ENOTFOUND}: a name did not resolve, or an object does not exist. */
public class NotFoundException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public NotFoundException(String message, int code) {
        super(message, code);
    }
}
