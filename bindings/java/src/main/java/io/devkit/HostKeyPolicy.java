// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** What to do with a host key that known_hosts does not have. */
public enum HostKeyPolicy {
    /** Unknown or changed key: refuse (the default). */
    STRICT(devkit_host_key_policy.DEVKIT_HOST_KEY_STRICT),
    /** Unknown key: accept and append to known_hosts; a changed key is still refused. */
    ACCEPT_NEW(devkit_host_key_policy.DEVKIT_HOST_KEY_ACCEPT_NEW);

    private final int value;

    HostKeyPolicy(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    static HostKeyPolicy of(int value) {
        for (HostKeyPolicy p : values()) {
            if (p.value == value) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown host key policy " + value);
    }
}
