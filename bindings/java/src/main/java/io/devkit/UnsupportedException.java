// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_EUNSUPPORTED}: not supported by this build or by the peer. */
public class UnsupportedException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public UnsupportedException(String message, int code) {
        super(message, code);
    }
}
