// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** What a {@link Replica} copies ({@code devkit_replica_source}). */
public enum ReplicaSource {
    /** A Pod, by name. */
    POD(devkit_replica_source.DEVKIT_REPLICA_FROM_POD),
    /** The Pod template of a Deployment. */
    DEPLOYMENT(devkit_replica_source.DEVKIT_REPLICA_FROM_DEPLOYMENT),
    /** The Pod template of a StatefulSet. */
    STATEFULSET(devkit_replica_source.DEVKIT_REPLICA_FROM_STATEFULSET),
    /** The Pod template of a DaemonSet. */
    DAEMONSET(devkit_replica_source.DEVKIT_REPLICA_FROM_DAEMONSET),
    /** A source a newer C library added. */
    UNKNOWN(0);

    private final int value;

    ReplicaSource(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    static ReplicaSource of(int value) {
        for (ReplicaSource s : values()) {
            if (s.value == value && s != UNKNOWN) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
