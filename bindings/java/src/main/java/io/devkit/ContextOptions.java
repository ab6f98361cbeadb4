// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Options of a {@link Context}. What is not set keeps the C default of
 * {@code devkit_ctx_options_init()} (log level WARN, 4096 queued events, no
 * log events).
 */
public final class ContextOptions {
    private final LogLevel logLevel;
    private final Integer eventQueueMax;
    private final Boolean logEvents;

    private ContextOptions(Builder b) {
        this.logLevel = b.logLevel;
        this.eventQueueMax = b.eventQueueMax;
        this.logEvents = b.logEvents;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** All C defaults. */
    public static ContextOptions defaults() {
        return builder().build();
    }

    /** A native struct filled with these options; the caller deletes it. */
    devkit_ctx_options toNative() {
        devkit_ctx_options o = new devkit_ctx_options(); // C defaults
        if (logLevel != null) {
            o.setLog_level(logLevel.value());
        }
        if (eventQueueMax != null) {
            o.setEvent_queue_max(eventQueueMax);
        }
        if (logEvents != null) {
            o.setLog_events(logEvents ? 1 : 0);
        }
        return o;
    }

    public static final class Builder {
        private LogLevel logLevel;
        private Integer eventQueueMax;
        private Boolean logEvents;

        private Builder() {}

        public Builder logLevel(LogLevel level) {
            this.logLevel = level;
            return this;
        }

        /** Events kept for the application; beyond it the oldest are dropped. */
        public Builder eventQueueMax(int max) {
            if (max <= 0) {
                throw new IllegalArgumentException("eventQueueMax must be positive");
            }
            this.eventQueueMax = max;
            return this;
        }

        /**
         * Also deliver the library's log lines (at or above the log level) as
         * {@link EventType#LOG} events, with {@link Event#level()}.
         */
        public Builder logEvents(boolean logEvents) {
            this.logEvents = logEvents;
            return this;
        }

        public ContextOptions build() {
            return new ContextOptions(this);
        }
    }
}
