// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** Counters of a forward: bytes in (far to local) and out, connections, failures. */
public record ForwardStats(long bytesIn, long bytesOut, long channelsOpen, long channelsTotal,
                           long failures) {
}
