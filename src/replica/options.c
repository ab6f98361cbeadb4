/* SPDX-License-Identifier: Apache-2.0 */
/* Options: defaults, checks, and the names of kinds and stages. */
#include "replica_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int devkit_replica_options_init(devkit_replica_options *opts, unsigned int version)
{
	static const devkit_replica_options defaults = DEVKIT_REPLICA_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_REPLICA_OPTIONS_VERSION, "devkit_replica_options_init");
}

const char *devkit_replica_stage_name(int stage)
{
	switch (stage) {
	case DEVKIT_REPLICA_CREATED: return "created";
	case DEVKIT_REPLICA_SCHEDULED: return "scheduled";
	case DEVKIT_REPLICA_INITIALIZED: return "initialized";
	case DEVKIT_REPLICA_CONTAINERS_READY: return "containers-ready";
	case DEVKIT_REPLICA_READY: return "ready";
	case DEVKIT_REPLICA_FAILED: return "failed";
	case DEVKIT_REPLICA_DELETED: return "deleted";
	default: return "unknown";
	}
}

const char *devkit__replica_kind_name(devkit_replica_source kind)
{
	switch (kind) {
	case DEVKIT_REPLICA_FROM_POD: return "pod";
	case DEVKIT_REPLICA_FROM_DEPLOYMENT: return "deployment";
	case DEVKIT_REPLICA_FROM_STATEFULSET: return "statefulset";
	case DEVKIT_REPLICA_FROM_DAEMONSET: return "daemonset";
	default: return NULL;
	}
}

/* An HTTP header name as Istio matches it: lower case token characters. */
static int header_name(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in);
	if (n == 0 || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)in[i]);
		if (!(isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.'))
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

int devkit__replica_spec_init(devkit__replica_spec *spec, const devkit_replica_options *opts,
	const char *k8s_namespace)
{
	static const char fn[] = "replica";
	memset(spec, 0, sizeof(*spec));
	if (!opts)
		return devkit__error_set(DEVKIT_EINVAL, "%s: options are NULL", fn);
	if (opts->version != DEVKIT_REPLICA_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: unknown options version %u (this library knows %u)", fn, opts->version,
			DEVKIT_REPLICA_OPTIONS_VERSION);
	spec->opts = opts;
	if (!devkit__replica_kind_name(opts->source_kind))
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: unknown source_kind %d (pod, deployment, statefulset or daemonset)", fn,
			(int)opts->source_kind);
	if (!opts->source_name || !*opts->source_name)
		return devkit__error_set(DEVKIT_EINVAL, "%s: source_name is required (the %s to copy)",
			fn, devkit__replica_kind_name(opts->source_kind));
	if (!devkit__dns_subdomain_valid(opts->source_name))
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: invalid source_name \"%s\": Kubernetes names are DNS subdomains (a-z, 0-9, "
			"'-' and '.')", fn, opts->source_name);
	spec->namespace_name = opts->namespace_name && *opts->namespace_name ? opts->namespace_name
		: k8s_namespace && *k8s_namespace ? k8s_namespace : "default";
	if (!devkit__dns_label_valid(spec->namespace_name))
		return devkit__error_set(DEVKIT_EINVAL, "%s: invalid namespace \"%s\"", fn,
			spec->namespace_name);
	if (opts->name && !devkit__dns_label_valid(opts->name))
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: invalid name \"%s\": a replica's name must be a DNS label "
			"(at most 63 of a-z, 0-9 and '-', starting and ending with a letter or digit)",
			fn, opts->name);

	const char *owner = opts->owner;
	if (!owner || !*owner)
		owner = getenv("USER");
	devkit__label_value_sanitize(owner, spec->owner, sizeof(spec->owner));
	if (opts->owner && *opts->owner && strcmp(opts->owner, spec->owner) != 0)
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: invalid owner \"%s\": it must be a label value (at most 63 of A-Z, a-z, "
			"0-9, '-', '_', '.', alphanumeric at both ends)", fn, opts->owner);

	if (opts->command && !*opts->command)
		return devkit__error_set(DEVKIT_EINVAL, "%s: command is empty", fn);
	if (opts->node_name && !*opts->node_name)
		return devkit__error_set(DEVKIT_EINVAL, "%s: node_name is empty", fn);
	if (opts->log_file && opts->log_file[0] != '/')
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: log_file \"%s\" must be an absolute path in the container", fn,
			opts->log_file);
	if (opts->traffic_tag && !devkit__label_value_valid(opts->traffic_tag))
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: invalid traffic_tag \"%s\": it must be a label value (at most 63 of A-Z, "
			"a-z, 0-9, '-', '_', '.', alphanumeric at both ends)", fn, opts->traffic_tag);
	if (opts->istio && !opts->traffic_tag)
		return devkit__error_set(DEVKIT_EINVAL,
			"%s: istio routing needs a traffic_tag (the header value that selects the copy)",
			fn);
	if (header_name(opts->tag_header ? opts->tag_header : DEVKIT__REPLICA_DEFAULT_TAG_HEADER,
		    spec->tag_header, sizeof(spec->tag_header)) < 0)
		return devkit__error_set(DEVKIT_EINVAL, "%s: invalid tag_header \"%s\"", fn,
			opts->tag_header);
	if (opts->istio_host && !*opts->istio_host)
		return devkit__error_set(DEVKIT_EINVAL, "%s: istio_host is empty", fn);
	spec->tcpdump_image = opts->tcpdump_image && *opts->tcpdump_image ? opts->tcpdump_image
		: DEVKIT__REPLICA_DEFAULT_TCPDUMP_IMAGE;
	if (opts->debug_port < 0 || opts->debug_port > 65535)
		return devkit__error_set(DEVKIT_EINVAL, "%s: debug_port %d is not a TCP port", fn,
			opts->debug_port);
	spec->ttl_s = opts->ttl_s ? opts->ttl_s : DEVKIT__REPLICA_DEFAULT_TTL_S;
	spec->now = time(NULL);
	if (devkit__replica_random_suffix(spec->suffix) < 0)
		return devkit__error_set(DEVKIT_ERROR, "%s: no randomness for the name", fn);
	return 0;
}
