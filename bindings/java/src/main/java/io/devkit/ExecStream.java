// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** The stream an {@link ExecOutput} came from ({@code DEVKIT_EXEC_STDOUT/STDERR}). */
public enum ExecStream {
    STDOUT(1),
    /** With a terminal (tty) everything arrives on {@link #STDOUT}. */
    STDERR(2);

    private final int value;

    ExecStream(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    static ExecStream of(int value) {
        return value == STDERR.value ? STDERR : STDOUT;
    }
}
