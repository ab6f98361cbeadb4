// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** {@code DEVKIT_ETIMEOUT}: an operation did not finish in time (not java.util.concurrent's). */
public class TimeoutException extends DevkitException {
    private static final long serialVersionUID = 1L;

    public TimeoutException(String message, int code) {
        super(message, code);
    }
}
