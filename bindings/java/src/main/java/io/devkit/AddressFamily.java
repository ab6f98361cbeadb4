// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** Which addresses {@link Dns#resolve(String, AddressFamily)} asks for. */
public enum AddressFamily {
    /** IPv4 and IPv6 (A and AAAA). */
    ANY(devkit_address_family.DEVKIT_AF_UNSPEC),
    /** IPv4 only (A). */
    IPV4(devkit_address_family.DEVKIT_AF_INET),
    /** IPv6 only (AAAA). */
    IPV6(devkit_address_family.DEVKIT_AF_INET6);

    private final int value;

    AddressFamily(int value) {
        this.value = value;
    }

    /** The C {@code AF_*} value. */
    public int value() {
        return value;
    }
}
