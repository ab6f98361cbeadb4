/* SPDX-License-Identifier: Apache-2.0 */
/* Building the report's JSON. Reading goes through src/core/json.h. */
#include "diag_json.h"

void devkit__diag_jset_str(json_t *obj, const char *key, const char *s)
{
	if (s)
		json_object_set_new(obj, key, json_string(s));
}
