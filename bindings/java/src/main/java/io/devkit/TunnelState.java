// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** Where a tunnel is in its life ({@code devkit_tunnel_state}). */
public enum TunnelState {
    CONNECTING(devkit_tunnel_state.DEVKIT_TUNNEL_CONNECTING),
    UP(devkit_tunnel_state.DEVKIT_TUNNEL_UP),
    RECONNECTING(devkit_tunnel_state.DEVKIT_TUNNEL_RECONNECTING),
    /** Gave up reconnecting, or reconnecting is off. */
    DOWN(devkit_tunnel_state.DEVKIT_TUNNEL_DOWN),
    /** Closed by the application. */
    CLOSED(devkit_tunnel_state.DEVKIT_TUNNEL_CLOSED),
    /** A state a newer C library added. */
    UNKNOWN(0);

    private final int value;

    TunnelState(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    static TunnelState of(int value) {
        for (TunnelState s : values()) {
            if (s.value == value && s != UNKNOWN) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
