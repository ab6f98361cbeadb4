// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/** Counters of a tunnel since it was opened. */
public record TunnelStats(TunnelState state, long reconnects, long bytesIn, long bytesOut,
                          long channelsOpen, long channelsTotal, long failures, long forwards) {
}
