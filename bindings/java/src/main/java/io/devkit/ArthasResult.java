// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * What {@link Kubernetes#arthasRun} gave back.
 *
 * @param output Arthas's output (its stdout and stderr, as a terminal shows them)
 * @param exitCode Arthas's exit code
 */
public record ArthasResult(String output, int exitCode) {
    @Override
    public String toString() {
        return output;
    }
}
