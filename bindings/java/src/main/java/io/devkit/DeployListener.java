// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Progress of a {@link Kubernetes#deploy}, called on the deploying thread
 * (so a UI must hand it over to its own thread). An exception it throws is
 * thrown by the deploy once it ends; it does not stop the deploy.
 */
@FunctionalInterface
public interface DeployListener {
    /**
     * @param stage "scan", "compare", "send" or "restart"
     * @param done bytes sent so far for "send", files otherwise
     * @param total bytes to send for "send", files otherwise
     */
    void progress(String stage, long done, long total);
}
