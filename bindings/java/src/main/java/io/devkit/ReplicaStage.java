// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** How far a {@link Replica}'s Pod has come ({@code devkit_replica_stage}). */
public enum ReplicaStage {
    /** The API server accepted the Pod. */
    CREATED(devkit_replica_stage.DEVKIT_REPLICA_CREATED),
    /** PodScheduled: a node was chosen. */
    SCHEDULED(devkit_replica_stage.DEVKIT_REPLICA_SCHEDULED),
    /** Init containers done. */
    INITIALIZED(devkit_replica_stage.DEVKIT_REPLICA_INITIALIZED),
    CONTAINERS_READY(devkit_replica_stage.DEVKIT_REPLICA_CONTAINERS_READY),
    READY(devkit_replica_stage.DEVKIT_REPLICA_READY),
    /** It cannot get further (the event's message says why). */
    FAILED(devkit_replica_stage.DEVKIT_REPLICA_FAILED),
    DELETED(devkit_replica_stage.DEVKIT_REPLICA_DELETED),
    /** A stage a newer C library added. */
    UNKNOWN(0);

    private final int value;

    ReplicaStage(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    static ReplicaStage of(int value) {
        for (ReplicaStage s : values()) {
            if (s.value == value && s != UNKNOWN) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
