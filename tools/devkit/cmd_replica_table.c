/* SPDX-License-Identifier: Apache-2.0 */
/* Times and tables of `devkit replica list` and `devkit gc`. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strptime, timegm */
#endif
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_replica.h"

int replica_parse_time(const char *text, time_t *out)
{
	struct tm tm;
	const char *rest;

	if (!text)
		return -1;
	memset(&tm, 0, sizeof(tm));
	rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -1;
	if (*rest == '.') /* fractions of a second: not needed for ages */
		while (isdigit((unsigned char)*++rest))
			;
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "z") != 0)
		return -1; /* devkit writes UTC; anything else was not written by us */
	*out = timegm(&tm);
	return 0;
}

/* kubectl's HumanDuration: precise when short, coarser as it grows. */
const char *replica_human_duration(long long s, char *buf, size_t size)
{
	long long m, h, d;

	if (s < 0)
		s = 0;
	m = s / 60;
	h = s / 3600;
	d = s / 86400;
	if (s < 120)
		snprintf(buf, size, "%llds", s);
	else if (m < 10 && s % 60)
		snprintf(buf, size, "%lldm%llds", m, s % 60);
	else if (m < 180)
		snprintf(buf, size, "%lldm", m);
	else if (h < 8 && m % 60)
		snprintf(buf, size, "%lldh%lldm", h, m % 60);
	else if (h < 48)
		snprintf(buf, size, "%lldh", h);
	else if (h < 192 && h % 24)
		snprintf(buf, size, "%lldd%lldh", d, h % 24);
	else if (d < 730)
		snprintf(buf, size, "%lldd", d);
	else
		snprintf(buf, size, "%lldy", d / 365);
	return buf;
}

void replica_table_init(struct replica_table *tb, size_t ncols)
{
	memset(tb, 0, sizeof(*tb));
	tb->ncols = ncols;
}

void replica_table_row(struct replica_table *tb, const char *const *cells)
{
	if (tb->failed)
		return;
	if (tb->nrows == tb->cap) {
		size_t cap = tb->cap ? tb->cap * 2 : 16;
		char **grown = realloc(tb->cells, cap * tb->ncols * sizeof(*grown));

		if (!grown) {
			tb->failed = 1;
			return;
		}
		tb->cells = grown;
		tb->cap = cap;
	}
	for (size_t c = 0; c < tb->ncols; c++) {
		/* cells come from the cluster: no control characters on a terminal */
		char *copy = strdup(cells[c] && *cells[c] ? cells[c] : "<none>");

		if (!copy)
			tb->failed = 1;
		tb->cells[tb->nrows * tb->ncols + c] = copy ? cli_printable(copy) : NULL;
	}
	tb->nrows++;
}

int replica_table_print(const struct replica_table *tb, FILE *f)
{
	size_t width[16] = { 0 };

	if (tb->failed || tb->ncols > 16) {
		cli_errorf("out of memory");
		return -1;
	}
	for (size_t i = 0; i < tb->nrows * tb->ncols; i++) {
		size_t n = strlen(tb->cells[i]);

		if (n > width[i % tb->ncols])
			width[i % tb->ncols] = n;
	}
	for (size_t r = 0; r < tb->nrows; r++) {
		for (size_t c = 0; c < tb->ncols; c++) {
			const char *cell = tb->cells[r * tb->ncols + c];

			if (c + 1 == tb->ncols)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s   ", (int)width[c], cell);
		}
	}
	return ferror(f) || fflush(f) != 0 ? -1 : 0;
}

void replica_table_free(struct replica_table *tb)
{
	for (size_t i = 0; i < tb->nrows * tb->ncols; i++)
		free(tb->cells[i]);
	free(tb->cells);
	memset(tb, 0, sizeof(*tb));
}

rdoc *replica_list_rows(devkit_k8s *k8s, const char *ns, cli_json *json_out, int json)
{
	devkit_buf buf = DEVKIT_BUF_INIT;
	char err[256];
	rdoc *rows;
	int rc = devkit_replica_list(k8s, ns, &buf);

	if (rc != 0) {
		cli_report_error(json_out, json, stdout, NULL, rc);
		return NULL;
	}
	rows = rdoc_parse(buf.ptr, buf.size, err, sizeof(err));
	devkit_buf_dispose(&buf);
	if (!rows || rows->type != RDOC_ARRAY) {
		cli_errorf("the library's replica list is not a JSON array (%s)", rows ? "" : err);
		rdoc_free(rows);
		return NULL;
	}
	return rows;
}
