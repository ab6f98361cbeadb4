// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** Log levels of the engine ({@code devkit_log_level}). */
public enum LogLevel {
    ERROR(devkit_log_level.DEVKIT_LOG_ERROR),
    WARN(devkit_log_level.DEVKIT_LOG_WARN),
    INFO(devkit_log_level.DEVKIT_LOG_INFO),
    DEBUG(devkit_log_level.DEVKIT_LOG_DEBUG),
    TRACE(devkit_log_level.DEVKIT_LOG_TRACE);

    private final int value;

    LogLevel(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    /** The level for a C value; null for one this binding does not know. */
    static LogLevel of(int value) {
        for (LogLevel l : values()) {
            if (l.value == value) {
                return l;
            }
        }
        return null;
    }
}
