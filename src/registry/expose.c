/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_tunnel_expose(): a reverse forward on the bastion plus the
 * registration of the bastion's address and that port. Built from the public
 * tunnel API (src/registry does not reach into src/tunnel), on the caller's
 * thread, like any application would.
 *
 * A registry inside the cluster is only reachable through the bastion too:
 * with registry_via_tunnel, each registry host gets a local forward and the
 * registration connects there (connect_to), keeping the URL's host name for
 * TLS and Host headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "registry_int.h"
#include "registry_url.h"

struct devkit_expose {
	devkit_forward *remote;
	devkit_forward *locals[8];     /* to the registry's hosts */
	int nlocals;
	devkit_registration *reg;
};

int devkit_expose_options_init(devkit_expose_options *opts, unsigned int version)
{
	static const devkit_expose_options defaults = DEVKIT_EXPOSE_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_EXPOSE_OPTIONS_VERSION, "devkit_expose_options_init");
}

/* The bastion's host as the tunnel was opened with ("bastion=host:port"). */
static int bastion_host(devkit_tunnel *t, char *out, size_t cap)
{
	devkit_buf buf = DEVKIT_BUF_INIT;
	int rc = devkit_tunnel_describe(t, &buf);
	if (rc < 0)
		return rc;
	rc = DEVKIT_ERROR;
	const char *line = strstr(buf.ptr, "bastion=");
	if (line) {
		line += strlen("bastion=");
		const char *end = strchr(line, '\n');
		const char *colon = end ? memrchr(line, ':', (size_t)(end - line)) : NULL;
		if (colon) {
			snprintf(out, cap, "%.*s", (int)(colon - line), line);
			rc = 0;
		}
	}
	devkit_buf_dispose(&buf);
	return rc == 0 ? 0 : devkit__error_set(DEVKIT_ERROR, "cannot read the bastion's address");
}

/* A local forward to each registry host; connect_to lists them. */
static int forward_registry(devkit_expose *e, devkit_tunnel *t, const char *registry,
	char *connect_to, size_t cap)
{
	devkit__reg_url url;
	int rc = devkit__reg_url_parse(registry, &url);
	if (rc < 0)
		return rc;
	devkit__reg_host hosts[8];
	int n = 0;
	/* The default port only matters when the URL names none; 0 would be refused. */
	const char *scheme = url.scheme;
	int def = strcmp(scheme, "nacos") == 0 ? 8848 : strcmp(scheme, "eureka") == 0 ? 8761 :
		strcmp(scheme, "consul") == 0 ? 8500 : strcmp(scheme, "etcd") == 0 ? 2379 : 2181;
	if (url.https && def != 2181)
		def = 443;
	rc = devkit__reg_url_hosts(url.authority, def, hosts, 8, &n);
	devkit__reg_url_dispose(&url);
	if (rc < 0)
		return rc;
	connect_to[0] = '\0';
	for (int i = 0; i < n; i++) {
		devkit_forward_options fo = DEVKIT_FORWARD_OPTIONS_INIT;
		fo.kind = DEVKIT_FORWARD_LOCAL;
		fo.bind_address = "127.0.0.1";
		fo.target_host = hosts[i].host;
		fo.target_port = hosts[i].port;
		if ((rc = devkit_tunnel_add_forward(&e->locals[i], t, &fo)) < 0)
			return rc;
		e->nlocals++;
		size_t used = strlen(connect_to);
		snprintf(connect_to + used, cap - used, "%s127.0.0.1:%d", i ? "," : "",
			devkit_forward_port(e->locals[i]));
	}
	return 0;
}

static void release(devkit_expose *e)
{
	devkit_forward_free(e->remote);
	for (int i = 0; i < e->nlocals; i++)
		devkit_forward_free(e->locals[i]);
	free(e);
}

int devkit_tunnel_expose(devkit_expose **out, devkit_tunnel *tunnel,
	const devkit_expose_options *opts, const devkit_registration_options *registration)
{
	if (!out || !tunnel || !opts || !registration)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_tunnel_expose: out, tunnel, opts and registration are required");
	*out = NULL;
	if (opts->version != DEVKIT_EXPOSE_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_tunnel_expose: options version %u is "
			"not %u", opts->version, DEVKIT_EXPOSE_OPTIONS_VERSION);
	if (opts->local_port <= 0 || opts->local_port > 65535)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_tunnel_expose: local port %d is not in 1-65535", opts->local_port);
	if (!registration->registry || !registration->service)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_tunnel_expose: the registration needs a registry URL and a service name");

	devkit_expose *e = calloc(1, sizeof(*e));
	if (!e)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");

	char advertise[256];
	int rc = 0;
	if (opts->advertise_host && opts->advertise_host[0])
		snprintf(advertise, sizeof(advertise), "%s", opts->advertise_host);
	else if (registration->address && registration->address[0])
		snprintf(advertise, sizeof(advertise), "%s", registration->address);
	else
		rc = bastion_host(tunnel, advertise, sizeof(advertise));

	devkit_forward_options fo = DEVKIT_FORWARD_OPTIONS_INIT;
	fo.kind = DEVKIT_FORWARD_REMOTE;
	fo.bind_address = opts->remote_bind_address ? opts->remote_bind_address : "0.0.0.0";
	fo.bind_port = opts->remote_port;
	fo.target_host = opts->local_host ? opts->local_host : "127.0.0.1";
	fo.target_port = opts->local_port;
	if (rc == 0)
		rc = devkit_tunnel_add_forward(&e->remote, tunnel, &fo);

	char connect_to[8 * 32];
	if (rc == 0 && opts->registry_via_tunnel)
		rc = forward_registry(e, tunnel, registration->registry, connect_to, sizeof(connect_to));

	if (rc == 0) {
		devkit_registration_options ro = *registration;
		ro.address = advertise;
		ro.port = devkit_forward_port(e->remote);
		if (opts->registry_via_tunnel)
			ro.connect_to = connect_to;
		rc = devkit__registration_new(&e->reg, devkit_tunnel_ctx(tunnel), &ro,
			devkit_tunnel_id(tunnel));
	}
	if (rc < 0) {
		const devkit_error *err = devkit_error_last();
		char message[512];
		snprintf(message, sizeof(message), "%s", err && err->message ? err->message : "");
		release(e);
		return devkit__error_set(rc, "expose %s:%d as %s: %s", fo.target_host, fo.target_port,
			registration->service, message);
	}
	*out = e;
	return 0;
}

devkit_registration *devkit_expose_registration(devkit_expose *expose)
{
	return expose ? expose->reg : NULL;
}

devkit_forward *devkit_expose_forward(devkit_expose *expose)
{
	return expose ? expose->remote : NULL;
}

int devkit_expose_close(devkit_expose *expose)
{
	if (!expose)
		return 0;
	/* Deregister first, while the registry is still reachable through the locals. */
	int rc = devkit_registration_close(expose->reg);
	char message[512] = "";
	if (rc < 0) {
		const devkit_error *err = devkit_error_last();
		snprintf(message, sizeof(message), "%s", err && err->message ? err->message : "");
	}
	release(expose);
	return rc < 0 ? devkit__error_set(rc, "%s", message) : 0;
}

void devkit_expose_free(devkit_expose *expose)
{
	devkit_expose_close(expose);
}
