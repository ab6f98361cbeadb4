// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Counters of a {@link Router}: control requests received, connections carried
 * through the tunnel, routed connects refused, names resolved for the shim.
 */
public record RouterStats(long requests, long routed, long refused, long resolved) {
}
