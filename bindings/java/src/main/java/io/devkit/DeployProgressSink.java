// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * What C's deploy progress callback calls (devkit_java.i's devkit_java_deploy),
 * on the deploying thread: decodes the stage and passes it on.
 */
final class DeployProgressSink {
    private final DeployListener listener;

    DeployProgressSink(DeployListener listener) {
        this.listener = listener;
    }

    /** Called from C (JNI) with the stage in UTF-8. */
    void progress(byte[] stage, long done, long total) {
        listener.progress(Utf8.decode(stage), done, total);
    }
}
