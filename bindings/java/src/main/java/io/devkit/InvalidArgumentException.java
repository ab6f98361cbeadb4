// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_EINVAL}: an argument or an input is not valid. */
public class InvalidArgumentException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public InvalidArgumentException(String message, int code) {
        super(message, code);
    }
}
