// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** Where a {@link Registration} is in its life ({@code devkit_registration_state}). */
public enum RegistrationState {
    /** The first attempt is in flight. */
    REGISTERING(devkit_registration_state.DEVKIT_REGISTRATION_REGISTERING),
    /** In the registry, heartbeats flowing. */
    REGISTERED(devkit_registration_state.DEVKIT_REGISTRATION_REGISTERED),
    /** The registry is unreachable or failing: retrying with backoff (the event says why). */
    RETRYING(devkit_registration_state.DEVKIT_REGISTRATION_RETRYING),
    /** The registry forgot the entry (restart, expired lease or session): registering again. */
    LOST(devkit_registration_state.DEVKIT_REGISTRATION_LOST),
    /** Refused for good (bad credentials, bad request): no more attempts. */
    FAILED(devkit_registration_state.DEVKIT_REGISTRATION_FAILED),
    /** Removed on close. */
    DEREGISTERED(devkit_registration_state.DEVKIT_REGISTRATION_DEREGISTERED),
    /** A state a newer C library added. */
    UNKNOWN(0);

    private final int value;

    RegistrationState(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    static RegistrationState of(int value) {
        for (RegistrationState s : values()) {
            if (s.value == value && s != UNKNOWN) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
