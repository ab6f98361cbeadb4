/* SPDX-License-Identifier: Apache-2.0 */
/* devkit_registration_describe(): what is registered where, as JSON. */
#include "registry_int.h"

#include <jansson.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

int devkit__reg_describe_json(devkit__reg *r, devkit_buf *out)
{
	json_t *o = json_object();
	if (!o)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	json_object_set_new(o, "id", json_integer((json_int_t)r->id));
	json_object_set_new(o, "registry", json_string(r->registry_text));
	json_object_set_new(o, "backend", json_string(r->backend->name));
	json_object_set_new(o, "service", json_string(r->service));
	json_object_set_new(o, "instance_id", json_string(r->instance_id));
	json_object_set_new(o, "address", json_string(r->address));
	json_object_set_new(o, "port", json_integer(r->port));
	json_object_set_new(o, "protocol", json_string(r->protocol));
	if (r->tag)
		json_object_set_new(o, "tag", json_string(r->tag));
	json_t *meta = json_object();
	for (int i = 0; i < r->nmeta; i++)
		json_object_set_new(meta, r->meta[i].key, json_string(r->meta[i].value));
	json_object_set_new(o, "metadata", meta);
	json_object_set_new(o, "state", json_string(devkit_registration_state_name(r->state)));
	json_object_set_new(o, "ttl_ms", json_integer(r->ttl_ms));
	json_object_set_new(o, "heartbeat_ms", json_integer(r->heartbeat_ms));
	if (r->last_error) {
		json_object_set_new(o, "error", json_string(devkit_strerror(r->last_error)));
		json_object_set_new(o, "message", json_string(r->last_message));
	}
	json_t *stats = json_object();
	json_object_set_new(stats, "registrations", json_integer((json_int_t)r->stats.registrations));
	json_object_set_new(stats, "heartbeats", json_integer((json_int_t)r->stats.heartbeats));
	json_object_set_new(stats, "failures", json_integer((json_int_t)r->stats.failures));
	json_object_set_new(stats, "lost", json_integer((json_int_t)r->stats.lost));
	json_object_set_new(o, "stats", stats);
	if (r->backend->describe)
		r->backend->describe(r, o);

	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	devkit__bytes b = { 0 };
	int rc = devkit__bytes_append(&b, text, strlen(text) + 1);
	free(text);
	if (rc < 0)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	b.len--; /* keep the terminator, do not count it */
	devkit__bytes_give(&b, out);
	return 0;
}
