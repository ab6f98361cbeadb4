// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Counters of a {@link Logs} ({@code devkit_logs_stats}).
 *
 * @param lines lines passed on (to the reader or the file)
 * @param bytes their bytes, newlines included
 * @param reconnects requests made after the first
 * @param duplicatesDropped lines a resumed request sent again
 */
public record LogsStats(long lines, long bytes, long reconnects, long duplicatesDropped) {
}
