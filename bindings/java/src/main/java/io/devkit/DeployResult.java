// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.time.Duration;

/**
 * What a {@link Kubernetes#deploy} did ({@code devkit_deploy_result}).
 *
 * @param filesSent files copied in this deploy
 * @param filesUnchanged files left as they were (same type, mode, size and mtime as last time)
 * @param filesTotal files under the local path
 * @param bytesSent file bytes copied (not counting tar headers)
 * @param duration the whole call
 * @param restarted whether the app was restarted
 * @param appState devkit-app's answer after the restart ("running pid 42 since ..."), or ""
 */
public record DeployResult(long filesSent, long filesUnchanged, long filesTotal, long bytesSent,
                           Duration duration, boolean restarted, String appState) {
}
