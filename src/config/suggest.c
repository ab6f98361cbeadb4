/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "did you mean": the known name nearest to a mistyped one, by optimal string
 * alignment distance (Levenshtein plus swapping two neighbours, the commonest
 * typo: "bastoin"). Only close names are offered: a wild guess would mislead.
 */
#include "config_int.h"

#include <ctype.h>
#include <string.h>

#define MAX_WORD 64

static size_t osa_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[MAX_WORD + 1][MAX_WORD + 1];

	if (la > MAX_WORD || lb > MAX_WORD)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			/* Case does not make a different word: "Bastion" is a typo. */
			size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
			size_t best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
					&& d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *cfg_suggest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t len = strlen(word);
	/* One edit for short words, up to a third of the length for longer ones. */
	size_t limit = len <= 4 ? 1 : len / 3 + 1;

	for (size_t i = 0; i < n; i++) {
		size_t dist = osa_distance(word, names[i]);
		if (dist < best_d) {
			best_d = dist;
			best = names[i];
		}
	}
	/* A name that starts the same way counts too: "keepalive" for
	 * "keepalive_interval" is a guess worth offering. */
	if (best_d > limit && len >= 4) {
		for (size_t i = 0; i < n; i++) {
			if (!strncmp(names[i], word, len))
				return names[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
