// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** The three kinds of forward, as in {@code ssh -L}, {@code -D} and {@code -R}. */
public enum ForwardKind {
    /** -L: a local listener connecting to host:port as the bastion sees it. */
    LOCAL(devkit_forward_kind.DEVKIT_FORWARD_LOCAL),
    /** -D: a local SOCKS5/SOCKS4 and HTTP proxy on one port. */
    DYNAMIC(devkit_forward_kind.DEVKIT_FORWARD_DYNAMIC),
    /** -R: a listener on the bastion connecting back to a local host:port. */
    REMOTE(devkit_forward_kind.DEVKIT_FORWARD_REMOTE);

    private final int value;

    ForwardKind(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    static ForwardKind of(int value) {
        for (ForwardKind k : values()) {
            if (k.value == value) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown forward kind " + value);
    }
}
