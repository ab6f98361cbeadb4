/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the replica tests: manifests from tests/replica/manifests (YAML
 * read with the library's own converter), a fixed clock and name suffix, and
 * validation of the Pods we produce against the published Kubernetes schema
 * with the `kubernetes-validate` tool (PyPI package kubernetes-validate;
 * DEVKIT_KUBERNETES_VALIDATE overrides the command).
 */
#ifndef DEVKIT_TESTS_REPLICA_TEST_H
#define DEVKIT_TESTS_REPLICA_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "k8s/yaml_json.h"
#include "replica/replica_int.h"

/* 2024-05-01T12:00:00Z */
#define RT_NOW ((time_t)1714564800)
#define RT_SUFFIX "x2b4c"

static inline json_t *rt_load(const char *name)
{
	const char *src = getenv("DEVKIT_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/replica/manifests/%s", src ? src : ".", name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s (DEVKIT_SOURCE_DIR set?)", path);
	static char text[1 << 17];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	json_t *doc;
	char err[256] = "";
	if (strstr(name, ".json")) {
		json_error_t jerr;
		doc = json_loadb(text, n, 0, &jerr);
		snprintf(err, sizeof(err), "%s line %d", jerr.text, jerr.line);
	} else {
		doc = devkit__yaml_to_json(text, n, DEVKIT__YAML_TYPED, err, sizeof(err));
	}
	cr_assert(doc, "%s: %s", name, err);
	return doc;
}

/* Services as devkit__replica_inputs wants them: the items of a list, made
 * from one Service manifest or a ServiceList. */
static inline json_t *rt_services(const char *name)
{
	json_t *doc = rt_load(name);
	json_t *items;
	if (json_object_get(doc, "items"))
		items = json_incref(json_object_get(doc, "items"));
	else
		items = json_pack("[O]", doc);
	json_decref(doc);
	return items;
}

static inline void rt_spec(devkit__replica_spec *spec, const devkit_replica_options *opts)
{
	int rc = devkit__replica_spec_init(spec, opts, "shop");
	cr_assert_eq(rc, 0, "spec: %s", devkit_error_last() ? devkit_error_last()->message : "?");
	spec->now = RT_NOW;
	memcpy(spec->suffix, RT_SUFFIX, 6);
}

/* Transform and expect success. */
static inline void rt_transform(const devkit_replica_options *opts, const json_t *source,
	const json_t *services, const json_t *owner, devkit__replica_objects *out)
{
	devkit__replica_spec spec;
	rt_spec(&spec, opts);
	devkit__replica_inputs in = { source, services, owner };
	int rc = devkit__replica_transform(&spec, &in, out);
	cr_assert_eq(rc, 0, "transform: %s", devkit_error_last() ? devkit_error_last()->message : "?");
	cr_assert(out->pod);
}

/* Transform and expect failure with `code` and a message containing `needle`. */
static inline void rt_transform_fails(const devkit_replica_options *opts, const json_t *source,
	const json_t *services, const json_t *owner, int code, const char *needle)
{
	devkit__replica_spec spec;
	devkit__replica_objects out;
	devkit_error_clear();
	int rc = devkit__replica_spec_init(&spec, opts, "shop");
	if (rc == 0) {
		devkit__replica_inputs in = { source, services, owner };
		rc = devkit__replica_transform(&spec, &in, &out);
	}
	const devkit_error *e = devkit_error_last();
	cr_assert_eq(rc, code, "expected %d, got %d (%s)", code, rc, e ? e->message : "no message");
	cr_assert(e && strstr(e->message, needle), "message \"%s\" lacks \"%s\"",
		e ? e->message : "", needle);
}

/* Validate a Pod with kubernetes-validate (strict: unknown fields are errors). */
static inline void rt_validate(const json_t *pod)
{
	char path[] = "/tmp/devkit-replica-pod-XXXXXX.json";
	int fd = mkstemps(path, 5);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	cr_assert_eq(json_dumpf(pod, f, JSON_INDENT(2)), 0);
	fclose(f);
	const char *tool = getenv("DEVKIT_KUBERNETES_VALIDATE");
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "%s -k 1.29 --strict --quiet '%s' 2>&1",
		tool && *tool ? tool : "kubernetes-validate", path);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	char output[4096];
	size_t n = fread(output, 1, sizeof(output) - 1, p);
	output[n] = '\0';
	int status = pclose(p);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	cr_assert_neq(code, 127, "kubernetes-validate is not installed: `python3 -m pip install "
		"kubernetes-validate` (scripts/setup.sh does it); output: %s", output);
	cr_assert_eq(code, 0, "the Pod is not a valid v1.Pod (kept in %s): %s", path, output);
	unlink(path);
}

static inline const char *rt_str(const json_t *obj, const char *dotted)
{
	return devkit__json_path_str(obj, dotted);
}

static inline json_t *rt_container(const json_t *pod, const char *name)
{
	return devkit__json_find_named(devkit__json_path(pod, "spec.containers"), name);
}

static inline const char *rt_env(const json_t *container, const char *name)
{
	return json_string_value(json_object_get(
		devkit__json_find_named(json_object_get(container, "env"), name), "value"));
}

#endif
