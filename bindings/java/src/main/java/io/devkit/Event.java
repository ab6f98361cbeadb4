// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * One event, copied out of the C struct. Events are read by polling from a Java
 * thread ({@link Context#poll}, or the listener thread of
 * {@link Context#addListener}); none is ever delivered on the library's I/O thread.
 *
 * @param type      what the event is about
 * @param tunnelId  the tunnel ({@link Tunnel#id()}); for a registration, the tunnel of its
 *                  {@link Expose}, else 0
 * @param forwardId the forward ({@link Forward#id()}), 0 if none
 * @param state     the new state, for {@link EventType#TUNNEL_STATE} only (else null)
 * @param error     the negative {@code DEVKIT_E*} code behind a failure, 0 if none
 * @param port      {@link EventType#FORWARD_READY}: the bound port;
 *                  {@link EventType#REGISTRATION_STATE}: the advertised port
 * @param attempt   reconnect attempt; for {@link EventType#EVENTS_DROPPED}, how many
 * @param address   {@link EventType#FORWARD_READY}: the bound address;
 *                  {@link EventType#REGISTRATION_STATE}: the advertised address;
 *                  {@link EventType#REPLICA_STAGE}: the Pod's name
 * @param message   human-readable, never contains secrets; for {@link EventType#LOG}, the log line
 * @param level     the level, for {@link EventType#LOG} only (else null)
 * @param objectId  the object the event is about: for {@link EventType#REGISTRATION_STATE},
 *                  the {@link Registration#id()}; for {@link EventType#REPLICA_STAGE}, the
 *                  {@link Replica#id()}; else 0
 * @param registrationState the new state, for {@link EventType#REGISTRATION_STATE} only (else null)
 * @param replicaStage the stage reached, for {@link EventType#REPLICA_STAGE} only (else null)
 */
public record Event(EventType type, long tunnelId, long forwardId, TunnelState state, int error,
                    int port, int attempt, String address, String message, LogLevel level,
                    long objectId, RegistrationState registrationState, ReplicaStage replicaStage) {

    static Event from(devkit_event ev) {
        EventType type = EventType.of(ev.getType());
        return new Event(type, ev.getTunnel_id(), ev.getForward_id(),
            type == EventType.TUNNEL_STATE ? TunnelState.of(ev.getState()) : null,
            ev.getError(), ev.getPort(), ev.getAttempt(), ev.getAddress(), ev.getMessage(),
            type == EventType.LOG ? LogLevel.of(ev.getState()) : null,
            ev.getObject_id(),
            type == EventType.REGISTRATION_STATE ? RegistrationState.of(ev.getState()) : null,
            type == EventType.REPLICA_STAGE ? ReplicaStage.of(ev.getState()) : null);
    }

    @Override
    public String toString() {
        if (type == EventType.LOG) {
            return "log " + level + ": " + message;
        }
        if (type == EventType.REGISTRATION_STATE) {
            return DevkitC.devkit_event_type_name(type.value()) + " registration=" + objectId + " "
                + registrationState + ": " + message;
        }
        if (type == EventType.REPLICA_STAGE) {
            return DevkitC.devkit_event_type_name(type.value()) + " replica=" + objectId + " "
                + address + " " + replicaStage + ": " + message;
        }
        return DevkitC.devkit_event_type_name(type.value()) + " tunnel=" + tunnelId + " forward="
            + forwardId + ": " + message;
    }
}
