// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Counters of a {@link Capture} ({@code devkit_capture_stats}).
 *
 * @param bytes bytes of output (text or pcap)
 * @param packets tcpdump's "N packets captured" (at the end; before it, lines seen for TEXT)
 * @param dropped tcpdump's "N packets dropped by kernel"
 * @param ended whether tcpdump has exited
 */
public record CaptureStats(long bytes, long packets, long dropped, boolean ended) {
}
