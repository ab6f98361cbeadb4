// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Counters of a {@link Dns}: queries received by the stub (UDP and TCP), sent
 * to the cluster DNS and to the upstream resolver, answered from the cache,
 * answered NXDOMAIN or SERVFAIL (timeouts included), dropped as malformed.
 */
public record DnsStats(long queries, long cluster, long upstream, long cacheHits, long nxdomain,
                       long servfail, long malformed) {
}
