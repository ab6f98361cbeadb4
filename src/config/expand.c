/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ${NAME} and ${NAME:-default} in values, as a shell reads them: the default
 * is used when NAME is unset or empty, and a variable set to "" gives "". "$${" is a literal "${" (for a shell
 * command that the container should expand), and any other "$" is kept as
 * it is, so "echo $HOME" needs no escaping. A missing variable without a
 * default is an error naming it: silently substituting "" would send a
 * developer's traffic to the wrong place.
 */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

static int name_char(char c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		|| (!first && c >= '0' && c <= '9');
}

int cfg_expand(cfg_parse *p, const cfg_node *v, const char *path, char **out, int *expanded)
{
	devkit__bytes b = DEVKIT__BYTES_INIT;
	const char *s = v->text;
	int rc = 0;

	*out = NULL;
	*expanded = 0;
	while (*s && !rc) {
		const char *dollar = strchr(s, '$');
		if (!dollar) {
			rc = devkit__bytes_append(&b, s, strlen(s));
			break;
		}
		if ((rc = devkit__bytes_append(&b, s, (size_t)(dollar - s))) != 0)
			break;
		if (!strncmp(dollar, "$${", 3)) {
			rc = devkit__bytes_append(&b, "${", 2);
			s = dollar + 3;
			continue;
		}
		if (dollar[1] != '{') {
			rc = devkit__bytes_append(&b, "$", 1);
			s = dollar + 1;
			continue;
		}
		const char *name = dollar + 2;
		const char *end = name;
		while (name_char(*end, end == name))
			end++;
		size_t nlen = (size_t)(end - name);
		const char *close = strchr(end, '}');
		if (!close) {
			rc = cfg_fail(p, v, "%s: \"${\" without a closing \"}\" (write \"$${\" for a "
				"literal \"${\")", path);
			break;
		}
		if (nlen == 0 || (*end != '}' && strncmp(end, ":-", 2) != 0)) {
			rc = cfg_fail(p, v, "%s: \"%.*s\" is not ${NAME} or ${NAME:-default} "
				"(NAME: letters, digits and _, not starting with a digit)", path,
				(int)(close - dollar + 1 > 80 ? 80 : close - dollar + 1), dollar);
			break;
		}
		char var[256];
		if (nlen >= sizeof(var)) {
			rc = cfg_fail(p, v, "%s: the variable name \"%.40s...\" is too long", path, name);
			break;
		}
		memcpy(var, name, nlen);
		var[nlen] = '\0';
		const char *value = getenv(var);
		*expanded = 1;
		if (value && (*value || *end != ':')) {
			rc = devkit__bytes_append(&b, value, strlen(value));
		} else if (*end == ':') {
			rc = devkit__bytes_append(&b, end + 2, (size_t)(close - end - 2));
		} else {
			rc = cfg_fail(p, v, "%s: environment variable %s is not set (give a default "
				"with ${%s:-default})", path, var, var);
			break;
		}
		s = close + 1;
	}
	if (rc == 0 && devkit__bytes_append(&b, "", 1) != 0)
		rc = DEVKIT_ENOMEM;
	if (rc) {
		devkit__bytes_free(&b);
		return rc == DEVKIT_ENOMEM ? devkit__error_set(rc, "out of memory") : rc;
	}
	if (!b.data) {
		*out = strdup("");
		return *out ? 0 : devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	*out = b.data; /* the bytes' allocation, terminated above */
	return 0;
}
