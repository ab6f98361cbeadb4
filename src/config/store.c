/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The strings a config owns: every const char * in its options structs
 * points into one of these, so devkit_config_free releases them in one
 * place. Secrets read from the environment are wiped first, so a freed
 * config leaves no password in the heap for a later dump to find.
 */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

const char *cfg_strndup(devkit_config *cfg, const char *s, size_t len, int secret)
{
	cfg_str *str = malloc(sizeof(*str) + len + 1);
	if (!str) {
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(str->text, s, len);
	str->text[len] = '\0';
	str->len = len;
	str->secret = secret;
	str->next = cfg->strings;
	cfg->strings = str;
	return str->text;
}

const char *cfg_strdup(devkit_config *cfg, const char *s, int secret)
{
	return s ? cfg_strndup(cfg, s, strlen(s), secret) : NULL;
}

void cfg_strings_free(devkit_config *cfg)
{
	while (cfg->strings) {
		cfg_str *s = cfg->strings;
		cfg->strings = s->next;
		if (s->secret)
			explicit_bzero(s->text, s->len);
		free(s);
	}
}
