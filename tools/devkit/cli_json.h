/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny JSON writer for the CLI's event stream: one object per line.
 *
 * The object is built in memory and written with one fwrite, so a reader never
 * sees half a line and library log lines (stderr) cannot interleave with it.
 * Strings are escaped and invalid UTF-8 is replaced with U+FFFD, because event
 * messages can carry bytes from the network (an SSH banner, a server error).
 *
 * Commas are placed automatically: after "{" or "[" the next value needs none;
 * after any value or a closed container it does. No stack is needed for that.
 */
#ifndef DEVKIT_CLI_JSON_H
#define DEVKIT_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cli_json {
	char *buf;
	size_t len;
	size_t cap;
	int need_comma;
	int failed; /* an allocation failed; cli_json_write() reports it */
} cli_json;

#define CLI_JSON_INIT { NULL, 0, 0, 0, 0 }

/* `key` is NULL for a value inside an array. */
void cli_json_object_begin(cli_json *j, const char *key);
void cli_json_object_end(cli_json *j);
void cli_json_array_begin(cli_json *j, const char *key);
void cli_json_array_end(cli_json *j);
void cli_json_string(cli_json *j, const char *key, const char *value);
void cli_json_int(cli_json *j, const char *key, long long value);
void cli_json_uint(cli_json *j, const char *key, uint64_t value);
void cli_json_double(cli_json *j, const char *key, double value);
void cli_json_bool(cli_json *j, const char *key, int value);

/* Write the buffer plus "\n" to `f` and flush. 0 on success, -1 if the write
 * failed (e.g. the reader of a pipe went away). Resets `j` for reuse. */
int cli_json_write(cli_json *j, FILE *f);

void cli_json_free(cli_json *j);

/*
 * Reading, not writing: the value of the first `"key":` in a JSON text, as a
 * string (quotes removed, simple escapes undone) or as the literal that
 * follows (a number), into `out`. Enough for the flat top-level fields the
 * CLI reads from the library's descriptions (devkit_registration_describe),
 * whose writer puts those before the nested objects, so the first match is
 * the top-level one. 0, or -1 when the key is not there.
 */
int cli_json_field(const char *json, const char *key, char *out, size_t size);

#endif
