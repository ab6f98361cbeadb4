/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The findings' wording: "{key}" replaced by the string value of that key.
 * A key that has no value becomes "?", so that a gap in what the cluster
 * told us shows as a gap rather than as a confident sentence with a word
 * missing.
 */
#include "diag_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

char *devkit__diag_expand(const char *tmpl, const json_t *vars)
{
	devkit__bytes b = DEVKIT__BYTES_INIT;
	const char *p = tmpl;
	int ok = 1;
	while (ok && *p) {
		const char *open = strchr(p, '{');
		if (!open) {
			ok = devkit__bytes_append(&b, p, strlen(p)) == 0;
			break;
		}
		ok = devkit__bytes_append(&b, p, (size_t)(open - p)) == 0;
		if (open[1] == '{') {
			ok = ok && devkit__bytes_append(&b, "{", 1) == 0;
			p = open + 2;
			continue;
		}
		const char *close = strchr(open, '}');
		if (!close) {
			ok = ok && devkit__bytes_append(&b, open, strlen(open)) == 0;
			break;
		}
		char key[64];
		size_t n = (size_t)(close - open - 1);
		const char *value = NULL;
		if (n < sizeof(key)) {
			memcpy(key, open + 1, n);
			key[n] = '\0';
			value = json_string_value(json_object_get(vars, key));
		}
		if (!value)
			value = "?";
		ok = ok && devkit__bytes_append(&b, value, strlen(value)) == 0;
		p = close + 1;
	}
	ok = ok && devkit__bytes_append(&b, "", 1) == 0;
	if (!ok) {
		devkit__bytes_free(&b);
		return NULL;
	}
	char *s = b.data; /* off is 0: nothing was consumed */
	return s;
}
