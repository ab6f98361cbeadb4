/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The public client: devkit_k8s_open reads the configuration on the caller's
 * thread (files may be read there, never on the loop), the loop tracks the
 * client so that the engine's shutdown ends its requests, and
 * devkit_k8s_request hands one request to the loop and waits for it.
 */
#include "k8s_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bytes.h"
#include "core/error.h"

int devkit_k8s_options_init(devkit_k8s_options *opts, unsigned int version)
{
	static const devkit_k8s_options defaults = DEVKIT_K8S_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_K8S_OPTIONS_VERSION, "devkit_k8s_options_init");
}

/* With tls-server-name the URL names that host (curl then checks the
 * certificate against it and sends it as SNI) and connect_to keeps the
 * connection on the server's real address. */
static int make_url(devkit_k8s *k, const char *connect_to)
{
	const char *server = k->cfg.server;
	if (!k->cfg.tls_server_name) {
		k->url_base = strdup(server);
		k->connect_to = connect_to ? strdup(connect_to) : NULL;
		return k->url_base && (!connect_to || k->connect_to) ? 0 : -1;
	}
	const char *host = strstr(server, "://") + 3;
	size_t scheme_len = (size_t)(host - server);
	const char *end = host[0] == '[' ? strchr(host, ']') : NULL;
	end = end ? end + 1 : host + strcspn(host, ":/");
	const char *rest = end; /* ":port/prefix" or "/prefix" or "" */
	int has_port = *rest == ':';
	int https = strncasecmp(server, "https", 5) == 0;
	char port[16];
	if (has_port)
		snprintf(port, sizeof(port), "%.*s", (int)strcspn(rest + 1, "/"), rest + 1);
	else
		snprintf(port, sizeof(port), "%s", https ? "443" : "80");
	k->url_base = devkit__k8s_strdup_printf("%.*s%s%s", (int)scheme_len, server,
		k->cfg.tls_server_name, rest);
	k->connect_to = connect_to ? strdup(connect_to)
		: devkit__k8s_strdup_printf("%.*s:%s", (int)(end - host), host, port);
	return k->url_base && k->connect_to ? 0 : -1;
}

static void client_shutdown(devkit_k8s *k)
{
	if (k->closed)
		return;
	k->closed = 1;
	devkit__ctx_untrack(&k->closeable);
	/* Requests first: they leave the credentials' wait list as they end. */
	devkit__k8s_requests_close(k);
	devkit__k8s_creds_shutdown(k);
}

static void on_ctx_shutdown(devkit__closeable *c)
{
	devkit_k8s *k = devkit__container_of(c, devkit_k8s, closeable);
	client_shutdown(k);
	__atomic_store_n(&k->detached, 1, __ATOMIC_RELEASE);
}

static void do_open(devkit__call *call)
{
	devkit_k8s *k = call->arg;
	devkit__list_init(&k->requests);
	devkit__k8s_creds_init(k);
	k->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(k->ctx, &k->closeable);
	devkit__call_done(call, k->ctx, 0);
}

static void do_close(devkit__call *call)
{
	devkit_k8s *k = call->arg;
	client_shutdown(k);
	devkit__call_done(call, k->ctx, 0);
}

static void client_free_memory(devkit_k8s *k)
{
	devkit__k8s_config_clear(&k->cfg);
	free(k->url_base);
	free(k->connect_to);
	free(k);
}

int devkit_k8s_open(devkit_k8s **out, devkit_ctx *ctx, const devkit_k8s_options *opts)
{
	if (!out || !ctx)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_k8s_open: out and ctx are required");
	*out = NULL;
	devkit_k8s_options defaults = DEVKIT_K8S_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != DEVKIT_K8S_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_k8s_open: options version %u is not %u (initialise with "
			"devkit_k8s_options_init)", opts->version, DEVKIT_K8S_OPTIONS_VERSION);
	devkit_k8s *k = calloc(1, sizeof(*k));
	if (!k)
		return devkit__error_set(DEVKIT_ENOMEM, "devkit_k8s_open: out of memory");
	k->ctx = ctx;
	k->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 30000;
	k->retries = opts->retries;
	int rc = devkit__k8s_config_load(&k->cfg, opts);
	if (rc == 0 && make_url(k, opts->connect_to && *opts->connect_to ? opts->connect_to : NULL))
		rc = devkit__error_set(DEVKIT_ENOMEM, "devkit_k8s_open: out of memory");
	if (rc == 0) {
		devkit__call call = { .fn = do_open, .arg = k };
		rc = devkit__call_run(ctx, &call);
	}
	if (rc != 0) {
		client_free_memory(k);
		return rc;
	}
	if (devkit__log_enabled(ctx, DEVKIT_LOG_INFO))
		devkit__log(ctx, DEVKIT_LOG_INFO, "kubernetes: %s at %s, namespace %s", k->cfg.who,
			k->cfg.server, k->cfg.namespace_name);
	*out = k;
	return 0;
}

void devkit_k8s_free(devkit_k8s *k)
{
	if (!k)
		return;
	/* Freed after the engine (which already shut it down): nothing on the loop. */
	if (__atomic_load_n(&k->detached, __ATOMIC_ACQUIRE)) {
		client_free_memory(k);
		return;
	}
	devkit__call call = { .fn = do_close, .arg = k };
	/* If the engine is stopping right now its shutdown still holds the
	 * client: leaking it is better than freeing it under the loop. */
	if (devkit__call_run(k->ctx, &call) == 0)
		client_free_memory(k);
}

const char *devkit_k8s_namespace(const devkit_k8s *k)
{
	return k ? k->cfg.namespace_name : NULL;
}

const char *devkit_k8s_server(const devkit_k8s *k)
{
	return k ? k->cfg.server : NULL;
}

const char *devkit_k8s_context_name(const devkit_k8s *k)
{
	return k ? k->cfg.context : NULL;
}

devkit_ctx *devkit__k8s_ctx(const devkit_k8s *k)
{
	return k ? k->ctx : NULL;
}

/* --- the blocking request ------------------------------------------------------------ */

typedef struct request_args {
	devkit_k8s *k;
	const char *method;
	const char *path;
	const char *body;
	devkit__bytes answer;
	devkit__call *call;
} request_args;

static void on_public_answer(void *data, const devkit__k8s_answer *a)
{
	request_args *args = data;
	if (a->rc < 0) {
		devkit__call_fail(args->call, args->k->ctx, a->rc, "%s", a->message);
		return;
	}
	int rc = 0;
	if (devkit__bytes_append(&args->answer, a->body, a->body_len) != 0 ||
		devkit__bytes_append(&args->answer, "", 1) != 0)
		rc = DEVKIT_ENOMEM;
	else
		args->answer.len--; /* NUL-terminated, not counted */
	if (rc)
		devkit__call_fail(args->call, args->k->ctx, rc, "out of memory");
	else
		devkit__call_done(args->call, args->k->ctx, 0);
}

static void do_request(devkit__call *call)
{
	request_args *args = call->arg;
	args->call = call;
	if (!devkit__k8s_request_start(args->k, args->method, args->path, args->body,
		on_public_answer, args))
		devkit__call_done(call, args->k->ctx, devkit_error_last()->code);
}

int devkit_k8s_request(devkit_k8s *k, const char *method, const char *path, const char *body,
	devkit_buf *out)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };
	if (out)
		memset(out, 0, sizeof(*out));
	if (!k || !method || !path || !out)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_k8s_request: the client, method, path and out are required");
	int known = 0;
	for (const char *const *m = methods; *m; m++)
		known |= strcmp(method, *m) == 0;
	if (!known)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_k8s_request: method \"%.20s\" is not GET, POST, PUT, PATCH or DELETE",
			method);
	request_args args = { .k = k, .method = method, .path = path, .body = body };
	devkit__call call = { .fn = do_request, .arg = &args };
	int rc = devkit__call_run(k->ctx, &call);
	if (rc == 0)
		devkit__bytes_give(&args.answer, out);
	devkit__bytes_free(&args.answer);
	return rc;
}
