/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JVM options through JAVA_TOOL_OPTIONS, which every HotSpot JVM reads
 * whatever the launcher script does (unlike JAVA_OPTS or command-line flags).
 *
 * Exception logging: -XX:+ShowCodeDetailsInExceptionMessages (JEP 358) exists
 * from JDK 14 on (and is on by default from 15); JDK 11 refuses an unknown
 * -XX flag and does not start, hence -XX:+IgnoreUnrecognizedVMOptions before
 * it. -Xlog:exceptions=info (unified logging, JDK 9+) logs every thrown
 * exception, caught or not, to stdout.
 *
 * Debugging: -agentlib:jdwp=...,address=*:PORT — the "*:" form binds every
 * interface from JDK 9 on (JDK 8 wants address=PORT). A jdwp agent already in
 * the options is replaced: the JVM refuses to load it twice.
 *
 * An existing JAVA_TOOL_OPTIONS keeps its value: ours is appended. One that
 * comes from valueFrom (ConfigMap/Secret) is left untouched but renamed
 * DEVKIT_ORIG_JAVA_TOOL_OPTIONS, and JAVA_TOOL_OPTIONS becomes
 * "$(DEVKIT_ORIG_JAVA_TOOL_OPTIONS) ours" right after it: Kubernetes expands
 * the reference when the container starts, so nothing of the original is
 * lost and no secret is copied into the Pod spec.
 */
#include "replica_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define JTO "JAVA_TOOL_OPTIONS"

static int is_jdwp(const char *tok, size_t n)
{
	return (n >= 14 && strncmp(tok, "-agentlib:jdwp", 14) == 0) ||
		(n >= 10 && strncmp(tok, "-Xrunjdwp:", 10) == 0);
}

static int has_token(const char *value, const char *tok)
{
	size_t n = strlen(tok);
	for (const char *p = value; (p = strstr(p, tok)); p += n)
		if ((p == value || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* `value` without jdwp agents (when we add ours) plus our flags not already in
 * it. Returns a new string. */
static char *merge(const char *value, const char *ours, int drop_jdwp)
{
	size_t cap = strlen(value) + strlen(ours) + 2;
	char *out = malloc(cap);
	size_t len = 0;
	if (!out)
		return NULL;
	const char *p = value;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n && !(drop_jdwp && is_jdwp(p, n))) {
			len += (size_t)snprintf(out + len, cap - len, "%s%.*s", len ? " " : "", (int)n, p);
		}
		p += n;
	}
	out[len] = '\0';
	char tok[256];
	for (p = ours; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n && n < sizeof(tok)) {
			memcpy(tok, p, n);
			tok[n] = '\0';
			if (!has_token(out, tok)) {
				char *grown = realloc(out, len + n + 2);
				if (!grown) {
					free(out);
					return NULL;
				}
				out = grown;
				len += (size_t)sprintf(out + len, "%s%s", len ? " " : "", tok);
			}
		}
		p += n;
	}
	return out;
}

static int set_env(json_t *container, const char *ours, int drop_jdwp)
{
	json_t *env = devkit__json_array_at(container, "env");
	json_t *entry = devkit__json_find_named(env, JTO);
	if (entry && json_object_get(entry, "valueFrom")) {
		size_t i;
		json_t *e;
		json_object_set_new(entry, "name", json_string(DEVKIT__REPLICA_ORIG_JTO));
		json_array_foreach(env, i, e)
			if (e == entry)
				break;
		char value[512];
		snprintf(value, sizeof(value), "$(%s) %s", DEVKIT__REPLICA_ORIG_JTO, ours);
		return json_array_insert_new(env, i + 1,
			json_pack("{s:s,s:s}", "name", JTO, "value", value));
	}
	const char *old = entry ? json_string_value(json_object_get(entry, "value")) : NULL;
	char *merged = merge(old ? old : "", ours, drop_jdwp);
	if (!merged)
		return -1;
	int rc = 0;
	if (entry)
		rc = json_object_set_new(entry, "value", json_string(merged));
	else
		rc = json_array_append_new(env, json_pack("{s:s,s:s}", "name", JTO, "value", merged));
	free(merged);
	return rc;
}

static int add_port(json_t *container, int port)
{
	json_t *ports = devkit__json_array_at(container, "ports");
	json_t *named = devkit__json_find_named(ports, "jdwp");
	size_t i;
	json_t *p;
	if (named)
		return json_object_set_new(named, "containerPort", json_integer(port));
	json_array_foreach(ports, i, p) {
		const char *proto = json_string_value(json_object_get(p, "protocol"));
		if (json_integer_value(json_object_get(p, "containerPort")) == port &&
		    (!proto || strcmp(proto, "TCP") == 0))
			return 0; /* already exposed under another name */
	}
	return json_array_append_new(ports, json_pack("{s:s,s:i,s:s}", "name", "jdwp",
		"containerPort", port, "protocol", "TCP"));
}

int devkit__replica_apply_jvm(const devkit__replica_spec *spec, json_t *container)
{
	const devkit_replica_options *o = spec->opts;
	char ours[384] = "";
	if (!o->jvm_exception_log && !o->debug_port)
		return 0;
	if (o->jvm_exception_log)
		snprintf(ours, sizeof(ours), "%s", DEVKIT__JVM_EXCEPTION_FLAGS);
	if (o->debug_port) {
		size_t len = strlen(ours);
		snprintf(ours + len, sizeof(ours) - len,
			"%s-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:%d",
			len ? " " : "", o->debug_port);
	}
	if (set_env(container, ours, o->debug_port != 0) < 0 ||
	    (o->debug_port && add_port(container, o->debug_port) < 0))
		return devkit__error_set(DEVKIT_ENOMEM, "replica: out of memory");
	return 0;
}
