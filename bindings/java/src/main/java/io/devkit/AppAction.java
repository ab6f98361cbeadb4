// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * What {@link Kubernetes#appControl} asks the replica's keep-alive
 * ({@code devkit-app}) to do with the app; the container and the Pod keep
 * running whatever it is.
 */
public enum AppAction {
    /** Only say how the app is. */
    STATUS(devkit_app_action.DEVKIT_APP_STATUS),
    START(devkit_app_action.DEVKIT_APP_START),
    STOP(devkit_app_action.DEVKIT_APP_STOP),
    RESTART(devkit_app_action.DEVKIT_APP_RESTART);

    private final int value;

    AppAction(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }
}
