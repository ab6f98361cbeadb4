// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_EEXISTS}: a conflict, such as an address already in use. */
public class ExistsException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public ExistsException(String message, int code) {
        super(message, code);
    }
}
