// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Counters of a {@link Registration}: successful register calls (the first and
 * re-registrations), successful heartbeats, failed requests of any kind, and
 * how often the registry had forgotten the entry.
 */
public record RegistrationStats(long registrations, long heartbeats, long failures, long lost) {
}
