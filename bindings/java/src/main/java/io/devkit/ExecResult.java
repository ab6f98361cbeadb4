// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.charset.StandardCharsets;

/**
 * A command that ran to its end ({@link Kubernetes#execRun},
 * {@link ExecSession#collect}): its exit code and everything it wrote.
 *
 * @param exitCode 0 for success, N for "command terminated with non-zero exit code"
 * @param stdout its standard output (with a terminal: all output)
 * @param stderr its standard error
 */
public record ExecResult(int exitCode, byte[] stdout, byte[] stderr) {

    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }

    /** Exit code 0. */
    public boolean succeeded() {
        return exitCode == 0;
    }

    @Override
    public String toString() {
        return "ExecResult[exitCode=" + exitCode + ", stdout=" + stdout.length + " bytes, stderr="
            + stderr.length + " bytes]";
    }
}
