// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** What an {@link Event} is about ({@code devkit_event_type}). */
public enum EventType {
    /** A tunnel changed state: see {@link Event#state()}. */
    TUNNEL_STATE(devkit_event_type.DEVKIT_EVENT_TUNNEL_STATE),
    /** A forward listens: {@link Event#address()} and {@link Event#port()} say where. */
    FORWARD_READY(devkit_event_type.DEVKIT_EVENT_FORWARD_READY),
    /** A forward could not be (re)established. */
    FORWARD_FAILED(devkit_event_type.DEVKIT_EVENT_FORWARD_FAILED),
    /** The queue was full and {@link Event#attempt()} events were dropped. */
    EVENTS_DROPPED(devkit_event_type.DEVKIT_EVENT_EVENTS_DROPPED),
    /**
     * A log line of the library, with {@link ContextOptions.Builder#logEvents}:
     * {@link Event#level()} and {@link Event#message()}.
     */
    LOG(devkit_event_type.DEVKIT_EVENT_LOG),
    /**
     * A {@link Registration} changed state: {@link Event#registrationState()},
     * {@link Event#objectId()} (its {@link Registration#id()}), the advertised
     * {@link Event#address()} and {@link Event#port()}, and why in {@link Event#error()}
     * and {@link Event#message()}.
     */
    REGISTRATION_STATE(devkit_event_type.DEVKIT_EVENT_REGISTRATION_STATE),
    /**
     * A {@link Replica} reached a stage: {@link Event#replicaStage()},
     * {@link Event#objectId()} (its {@link Replica#id()}), the Pod's name in
     * {@link Event#address()} and what happened in {@link Event#message()}.
     */
    REPLICA_STAGE(devkit_event_type.DEVKIT_EVENT_REPLICA_STAGE),
    /** A type a newer C library added. */
    UNKNOWN(devkit_event_type.DEVKIT_EVENT_NONE);

    private final int value;

    EventType(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    static EventType of(int value) {
        for (EventType t : values()) {
            if (t.value == value) {
                return t;
            }
        }
        return UNKNOWN;
    }
}
