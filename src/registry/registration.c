/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registration state machine: when to register, beat, retry, re-register
 * and deregister. The backends (nacos.c, eureka.c, ...) know how.
 *
 *   REGISTERING --ok--> REGISTERED --beat ok--> REGISTERED
 *        |                  |  \--beat "not found"--> LOST --register--> ...
 *        |                  \--beat failed--> RETRYING (keep beating, backoff)
 *        |--transient--> RETRYING --backoff--> register again
 *        \--refused--> FAILED (no more attempts)
 *   close: deregister if an entry may exist --> DEREGISTERED, freed
 */
#include "registry_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/error.h"
#include "core/hostport.h"
#include "registry_url.h"

#define BACKOFF_FIRST_MS 500u
#define BACKOFF_MAX_MS 30000u

struct devkit_registration {
	devkit__reg r;
};

static const devkit__reg_backend *const backends[] = {
	&devkit__reg_nacos, &devkit__reg_eureka, &devkit__reg_consul,
	&devkit__reg_zookeeper, &devkit__reg_etcd,
};

int devkit_registration_options_init(devkit_registration_options *opts, unsigned int version)
{
	static const devkit_registration_options defaults = DEVKIT_REGISTRATION_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_REGISTRATION_OPTIONS_VERSION, "devkit_registration_options_init");
}

const char *devkit_registration_state_name(int state)
{
	switch (state) {
	case DEVKIT_REGISTRATION_REGISTERING: return "registering";
	case DEVKIT_REGISTRATION_REGISTERED: return "registered";
	case DEVKIT_REGISTRATION_RETRYING: return "retrying";
	case DEVKIT_REGISTRATION_LOST: return "lost";
	case DEVKIT_REGISTRATION_FAILED: return "failed";
	case DEVKIT_REGISTRATION_DEREGISTERED: return "deregistered";
	default: return "unknown";
	}
}

/* --- helpers for the backends ------------------------------------------------ */

const char *devkit__reg_query(const devkit__reg *r, const char *key, const char *def)
{
	for (int i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].key, key) == 0)
			return r->query[i].value;
	return def;
}

void devkit__reg_base_url(const devkit__reg *r, char *out, size_t cap)
{
	const char *host = r->url_host;
	int bracket = strchr(host, ':') != NULL; /* an IPv6 literal */
	snprintf(out, cap, "%s://%s%s%s:%d%s", r->https ? "https" : "http", bracket ? "[" : "",
		host, bracket ? "]" : "", r->url_port, r->path);
}

void devkit__reg_log(devkit__reg *r, devkit_log_level level, const char *fmt, ...)
{
	if (!devkit__log_enabled(r->ctx, level))
		return;
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	devkit__log(r->ctx, level, "registry %s, service %s: %s", r->backend->name, r->service,
		line);
}

/* --- state changes ------------------------------------------------------------ */

static void publish(devkit__reg *r, int state, int error, const char *message)
{
	uv_mutex_lock(&r->lock);
	r->pub_state = state;
	r->pub_error = error;
	snprintf(r->pub_message, sizeof(r->pub_message), "%s", message ? message : "");
	uv_cond_broadcast(&r->cond);
	uv_mutex_unlock(&r->lock);
}

static void set_state(devkit__reg *r, int state, int error, const char *message)
{
	int changed = state != r->state;
	r->state = state;
	publish(r, state, error, message);
	/* A failing heartbeat repeats RETRYING with a new reason; other repeats are noise. */
	if (!changed && state != DEVKIT_REGISTRATION_RETRYING)
		return;
	devkit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = DEVKIT_EVENT_REGISTRATION_STATE;
	ev.object_id = r->id;
	ev.tunnel_id = r->tunnel_id;
	ev.state = state;
	ev.error = error;
	ev.port = r->port;
	snprintf(ev.address, sizeof(ev.address), "%s", r->address);
	snprintf(ev.message, sizeof(ev.message), "%s %s: %s", r->backend->name, r->service,
		message ? message : devkit_registration_state_name(state));
	devkit__event_emit(r->ctx, &ev);
	/* A streak of retries warns once; the event carries every one. */
	devkit__reg_log(r, error && changed ? DEVKIT_LOG_WARN : DEVKIT_LOG_INFO, "%s%s%s",
		devkit_registration_state_name(state), message ? ": " : "", message ? message : "");
}

static void start_op(devkit__reg *r, devkit__reg_op op);

static void on_timer(uv_timer_t *t)
{
	devkit__reg *r = t->data;
	if (r->closing || r->op)
		return;
	if (r->state == DEVKIT_REGISTRATION_REGISTERED ||
		(r->state == DEVKIT_REGISTRATION_RETRYING && r->ever_registered && r->backend->has_heartbeat))
		start_op(r, DEVKIT__REG_OP_HEARTBEAT);
	else
		start_op(r, DEVKIT__REG_OP_REGISTER);
}

static void schedule(devkit__reg *r, unsigned int ms)
{
	uv_timer_start(&r->timer, on_timer, ms, 0);
}

static unsigned int next_backoff(devkit__reg *r)
{
	unsigned int ms = r->backoff_ms ? r->backoff_ms : BACKOFF_FIRST_MS;
	unsigned int cap = BACKOFF_MAX_MS;
	/* Never wait so long that the registry forgets us in the meantime. */
	if (r->ever_registered && r->heartbeat_ms && r->heartbeat_ms < cap)
		cap = r->heartbeat_ms;
	r->backoff_ms = ms * 2 > cap ? cap : ms * 2;
	return ms > cap ? cap : ms;
}

static void start_op(devkit__reg *r, devkit__reg_op op)
{
	r->op = op;
	r->backend->start(r, op);
}

static int is_permanent(int rc)
{
	return rc == DEVKIT_EAUTH || rc == DEVKIT_EFORBIDDEN || rc == DEVKIT_EINVAL;
}

static void finish_close(devkit__reg *r, int rc, const char *message);

void devkit__reg_op_done(devkit__reg *r, int rc, const char *fmt, ...)
{
	char message[512] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(message, sizeof(message), fmt, ap);
		va_end(ap);
	}
	devkit__reg_op op = r->op;
	r->op = 0;
	if (rc < 0) {
		r->stats.failures++;
		r->last_error = rc;
		snprintf(r->last_message, sizeof(r->last_message), "%s", message);
	}

	if (op == DEVKIT__REG_OP_DEREGISTER) {
		finish_close(r, rc, message);
		return;
	}
	if (r->closing)
		return;
	uv_mutex_lock(&r->lock);
	r->pub_attempted = 1;
	uv_mutex_unlock(&r->lock);

	if (op == DEVKIT__REG_OP_REGISTER) {
		if (rc == 0) {
			int restored = r->stats.registrations > 0;
			r->stats.registrations++;
			r->ever_registered = 1;
			r->backoff_ms = 0;
			r->last_error = 0;
			set_state(r, DEVKIT_REGISTRATION_REGISTERED, 0,
				restored ? "registered again" : "registered");
			if (r->backend->has_heartbeat)
				schedule(r, r->heartbeat_ms);
			return;
		}
		/* A register call that timed out may still have reached the registry. */
		if (rc == DEVKIT_ETIMEOUT)
			r->ever_registered = 1;
		if (is_permanent(rc)) {
			set_state(r, DEVKIT_REGISTRATION_FAILED, rc, message);
			return;
		}
		set_state(r, DEVKIT_REGISTRATION_RETRYING, rc, message);
		schedule(r, next_backoff(r));
		return;
	}

	/* a heartbeat */
	if (rc == 0) {
		r->stats.heartbeats++;
		r->backoff_ms = 0;
		if (r->state != DEVKIT_REGISTRATION_REGISTERED)
			set_state(r, DEVKIT_REGISTRATION_REGISTERED, 0, "heartbeats flow again");
		schedule(r, r->heartbeat_ms);
	} else if (rc == DEVKIT_ENOTFOUND) {
		r->stats.lost++;
		set_state(r, DEVKIT_REGISTRATION_LOST, rc, message);
		start_op(r, DEVKIT__REG_OP_REGISTER);
	} else if (is_permanent(rc)) {
		/* An expired token, say: registering again logs in again. */
		set_state(r, DEVKIT_REGISTRATION_RETRYING, rc, message);
		r->state = DEVKIT_REGISTRATION_LOST;
		schedule(r, next_backoff(r));
	} else {
		set_state(r, DEVKIT_REGISTRATION_RETRYING, rc, message);
		schedule(r, next_backoff(r));
	}
}

void devkit__reg_lost(devkit__reg *r, const char *why)
{
	if (r->closing || r->op)
		return;
	uv_timer_stop(&r->timer);
	r->stats.lost++;
	set_state(r, DEVKIT_REGISTRATION_LOST, DEVKIT_ENOTFOUND, why);
	start_op(r, DEVKIT__REG_OP_REGISTER);
}

/* --- freeing and closing ------------------------------------------------------- */

static void free_kvs(devkit__reg_kv *kv, int n)
{
	for (int i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void secret_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void reg_free(devkit__reg *r)
{
	if (r->backend && r->backend->destroy)
		r->backend->destroy(r);
	free(r->url_host);
	free(r->path);
	free_kvs(r->query, r->nquery);
	free(r->service);
	free(r->address);
	free_kvs(r->meta, r->nmeta);
	free(r->tag);
	free(r->username);
	secret_free(r->password);
	secret_free(r->token);
	free(r->protocol);
	free(r->interface_name);
	free(r->methods);
	free(r->ca_file);
	free(r->registry_text);
	free(r->connect_to);
	uv_cond_destroy(&r->cond);
	uv_mutex_destroy(&r->lock);
	free((struct devkit_registration *)r);
}

static void on_timer_closed(uv_handle_t *h)
{
	devkit__reg *r = h->data;
	devkit__call *call = r->close_call;
	/* Closed by the engine's shutdown: nobody else holds it. Closed by
	 * devkit_registration_close: that thread frees it, once any thread still
	 * in devkit_registration_wait has left. */
	if (!call) {
		reg_free(r);
		return;
	}
	if (r->close_rc < 0)
		devkit__call_fail(call, r->ctx, r->close_rc, "%s", r->close_message);
	else
		devkit__call_done(call, r->ctx, 0);
}

static void finish_close(devkit__reg *r, int rc, const char *message)
{
	r->close_rc = rc;
	snprintf(r->close_message, sizeof(r->close_message), "%s", message ? message : "");
	set_state(r, DEVKIT_REGISTRATION_DEREGISTERED, rc,
		message && message[0] ? message : "removed from the registry");
	uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

/* Start closing (I/O thread): deregister if an entry may exist. */
static void begin_close(devkit__reg *r)
{
	if (r->closing)
		return;
	r->closing = 1;
	devkit__ctx_untrack(&r->closeable);
	uv_timer_stop(&r->timer);
	int may_exist = r->ever_registered || r->op == DEVKIT__REG_OP_REGISTER;
	if (r->op) {
		r->backend->cancel(r);
		r->op = 0;
	}
	if (may_exist && r->state != DEVKIT_REGISTRATION_FAILED) {
		start_op(r, DEVKIT__REG_OP_DEREGISTER);
		return;
	}
	finish_close(r, 0, "nothing to remove: the entry was never registered");
}

static void on_engine_shutdown(devkit__closeable *c)
{
	devkit__reg *r = (devkit__reg *)((char *)c - offsetof(devkit__reg, closeable));
	begin_close(r);
}

/* --- the public API --------------------------------------------------------------- */

typedef struct reg_args {
	devkit__reg *r;
} reg_args;

static void do_create(devkit__call *call)
{
	devkit__reg *r = ((reg_args *)call->arg)->r;
	devkit_ctx *ctx = r->ctx;
	int rc = r->backend->init ? r->backend->init(r) : 0;
	if (rc < 0) {
		devkit__call_done(call, ctx, rc);
		return;
	}
	r->id = devkit__ctx_next_id(ctx);
	uv_timer_init(&ctx->loop, &r->timer);
	r->timer.data = r;
	r->closeable.shutdown = on_engine_shutdown;
	devkit__ctx_track(ctx, &r->closeable);
	set_state(r, DEVKIT_REGISTRATION_REGISTERING, 0, NULL);
	start_op(r, DEVKIT__REG_OP_REGISTER);
	devkit__call_done(call, ctx, 0);
}

static int copy_str(char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst ? 0 : devkit__error_set(DEVKIT_ENOMEM, "out of memory");
}

/* "k=v" lines into key/value pairs. */
static int parse_metadata(devkit__reg *r, const char *text)
{
	if (!text)
		return 0;
	int line_no = 0;
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		line_no++;
		size_t trimmed = len;
		if (trimmed && line[trimmed - 1] == '\r')
			trimmed--;
		if (trimmed) {
			const char *eq = memchr(line, '=', trimmed);
			if (!eq || eq == line)
				return devkit__error_set(DEVKIT_EINVAL,
					"metadata line %d \"%.*s\" is not key=value", line_no,
					(int)(trimmed > 80 ? 80 : trimmed), line);
			devkit__reg_kv *kv = realloc(r->meta, sizeof(*kv) * (size_t)(r->nmeta + 1));
			if (!kv)
				return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
			r->meta = kv;
			kv[r->nmeta].key = strndup(line, (size_t)(eq - line));
			kv[r->nmeta].value = strndup(eq + 1, trimmed - (size_t)(eq - line) - 1);
			r->nmeta++;
			if (!kv[r->nmeta - 1].key || !kv[r->nmeta - 1].value)
				return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		}
		line += len;
		if (*line == '\n')
			line++;
	}
	return 0;
}

static int check_options(const devkit_registration_options *o)
{
	if (o->version != DEVKIT_REGISTRATION_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_registration_new: options version %u is not %u (initialise with "
			"DEVKIT_REGISTRATION_OPTIONS_INIT)", o->version, DEVKIT_REGISTRATION_OPTIONS_VERSION);
	if (!o->registry || !o->registry[0])
		return devkit__error_set(DEVKIT_EINVAL, "devkit_registration_new: no registry URL "
			"(nacos://, eureka://, consul://, zookeeper:// or etcd://)");
	if (!o->service || !o->service[0])
		return devkit__error_set(DEVKIT_EINVAL, "devkit_registration_new: no service name");
	if (!o->address || !o->address[0])
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_registration_new: no address to advertise for service %s", o->service);
	if (o->port <= 0 || o->port > 65535)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_registration_new: port %d of service %s is not in 1-65535", o->port,
			o->service);
	if (o->protocol && strcmp(o->protocol, "http") != 0 && strcmp(o->protocol, "dubbo") != 0)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_registration_new: protocol \"%s\" is not http or dubbo", o->protocol);
	return 0;
}

static const devkit__reg_backend *find_backend(const char *scheme)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, scheme) == 0)
			return backends[i];
	if (strcmp(scheme, "zk") == 0)
		return &devkit__reg_zookeeper;
	return NULL;
}

static int setup(devkit__reg *r, const devkit_registration_options *o)
{
	int rc;
	devkit__reg_url url;
	if ((rc = devkit__reg_url_parse(o->registry, &url)) < 0)
		return rc;
	r->backend = find_backend(url.scheme);
	if (!r->backend) {
		rc = devkit__error_set(DEVKIT_EINVAL, "registry URL scheme \"%s\" is not one of "
			"nacos, eureka, consul, zookeeper, etcd (with +https for HTTPS)", url.scheme);
		devkit__reg_url_dispose(&url);
		return rc;
	}
	r->https = url.https;
	if (r->https && strcmp(r->backend->name, "zookeeper") == 0) {
		devkit__reg_url_dispose(&url);
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper does not speak HTTPS: use zookeeper://");
	}
	rc = devkit__reg_url_take(&url, r, r->backend->default_port);
	devkit__reg_url_dispose(&url);
	if (rc < 0)
		return rc;
	if (o->connect_to && o->connect_to[0] &&
		(rc = devkit__reg_url_hosts(o->connect_to, r->backend->default_port, r->hosts, 8,
			&r->nhosts)) < 0)
		return rc;

	if (copy_str(&r->service, o->service) || copy_str(&r->address, o->address) ||
		copy_str(&r->tag, o->tag && o->tag[0] ? o->tag : NULL) ||
		copy_str(&r->username, o->username) || copy_str(&r->password, o->password) ||
		copy_str(&r->token, o->token) || copy_str(&r->protocol, o->protocol ? o->protocol : "http") ||
		copy_str(&r->interface_name, o->interface_name ? o->interface_name : o->service) ||
		copy_str(&r->methods, o->methods) || copy_str(&r->ca_file, o->ca_file) ||
		copy_str(&r->registry_text, o->registry))
		return DEVKIT_ENOMEM;
	if (o->connect_to && o->connect_to[0]) {
		/* HTTP backends talk to the first host only. */
		char first[300];
		int v6 = strchr(r->hosts[0].host, ':') != NULL;
		snprintf(first, sizeof(first), "%s%s%s:%d", v6 ? "[" : "", r->hosts[0].host,
			v6 ? "]" : "", r->hosts[0].port);
		if (copy_str(&r->connect_to, first))
			return DEVKIT_ENOMEM;
	}
	if ((rc = parse_metadata(r, o->metadata)) < 0)
		return rc;
	r->port = o->port;
	r->insecure = o->insecure;
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	r->ttl_ms = o->ttl_ms ? o->ttl_ms : r->backend->default_ttl_ms;
	r->heartbeat_ms = o->heartbeat_ms ? o->heartbeat_ms :
		r->backend->default_heartbeat_ms ? r->backend->default_heartbeat_ms : r->ttl_ms / 3;
	if (r->heartbeat_ms < 100)
		r->heartbeat_ms = 100;
	return 0;
}

int devkit_registration_new(devkit_registration **out, devkit_ctx *ctx,
	const devkit_registration_options *opts)
{
	return devkit__registration_new(out, ctx, opts, 0);
}

int devkit__registration_new(devkit_registration **out, devkit_ctx *ctx,
	const devkit_registration_options *opts, uint64_t tunnel_id)
{
	if (!out || !ctx || !opts)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_registration_new: out, ctx and opts are required");
	*out = NULL;
	int rc = check_options(opts);
	if (rc < 0)
		return rc;
	struct devkit_registration *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	devkit__reg *r = &reg->r;
	r->ctx = ctx;
	r->tunnel_id = tunnel_id;
	uv_mutex_init(&r->lock);
	uv_cond_init(&r->cond);
	if ((rc = setup(r, opts)) < 0) {
		r->backend = NULL; /* init never ran: nothing for destroy */
		reg_free(r);
		return rc;
	}
	reg_args a = { r };
	devkit__call call = { .fn = do_create, .arg = &a };
	if ((rc = devkit__call_run(ctx, &call)) < 0) {
		reg_free(r);
		return rc;
	}
	*out = reg;
	return 0;
}

int devkit_registration_wait(devkit_registration *reg, int timeout_ms)
{
	if (!reg)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_registration_wait: reg is NULL");
	devkit__reg *r = &reg->r;
	uint64_t deadline = uv_hrtime() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000u;
	uv_mutex_lock(&r->lock);
	r->waiters++;
	for (;;) {
		if (r->pub_state == DEVKIT_REGISTRATION_REGISTERED ||
			r->pub_state == DEVKIT_REGISTRATION_FAILED ||
			r->pub_state == DEVKIT_REGISTRATION_DEREGISTERED)
			break;
		if (timeout_ms < 0) {
			uv_cond_wait(&r->cond, &r->lock);
			continue;
		}
		uint64_t now = uv_hrtime();
		if (now >= deadline || uv_cond_timedwait(&r->cond, &r->lock, deadline - now) != 0)
			break;
	}
	int state = r->pub_state, error = r->pub_error, attempted = r->pub_attempted;
	char message[512];
	snprintf(message, sizeof(message), "%s", r->pub_message);
	const char *backend = r->backend->name;
	char service[256];
	snprintf(service, sizeof(service), "%s", r->service);
	/* After this the registration may be freed by a closing thread. */
	if (--r->waiters == 0)
		uv_cond_broadcast(&r->cond);
	uv_mutex_unlock(&r->lock);

	if (state == DEVKIT_REGISTRATION_REGISTERED)
		return 0;
	if (state == DEVKIT_REGISTRATION_DEREGISTERED)
		return devkit__error_set(DEVKIT_ECLOSED, "the registration is closed");
	if (attempted && error < 0)
		return devkit__error_set(error, "%s", message);
	return devkit__error_set(DEVKIT_ETIMEOUT, "%s %s: not registered after %d ms", backend,
		service, timeout_ms);
}

int devkit_registration_get_state(devkit_registration *reg)
{
	if (!reg)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_registration_get_state: reg is NULL");
	uv_mutex_lock(&reg->r.lock);
	int state = reg->r.pub_state;
	uv_mutex_unlock(&reg->r.lock);
	return state;
}

uint64_t devkit_registration_id(const devkit_registration *reg)
{
	return reg ? reg->r.id : 0;
}

static void fill_stats(void *object, void *out)
{
	devkit__reg *r = object;
	*(devkit_registration_stats *)out = r->stats;
}

int devkit_registration_get_stats(devkit_registration *reg, devkit_registration_stats *out)
{
	return devkit__get_stats(reg ? reg->r.ctx : NULL, reg ? &reg->r : NULL, out,
		DEVKIT_REGISTRATION_STATS_VERSION, "devkit_registration_get_stats", fill_stats);
}

typedef struct describe_args {
	devkit__reg *r;
	devkit_buf *out;
} describe_args;

static void do_describe(devkit__call *call)
{
	describe_args *a = call->arg;
	devkit__reg *r = a->r;
	int rc = devkit__reg_describe_json(r, a->out);
	devkit__call_done(call, r->ctx, rc);
}

int devkit_registration_describe(devkit_registration *reg, devkit_buf *out)
{
	if (!reg || !out)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_registration_describe: reg and out are required");
	describe_args a = { &reg->r, out };
	devkit__call call = { .fn = do_describe, .arg = &a };
	return devkit__call_run(reg->r.ctx, &call);
}

static void do_close(devkit__call *call)
{
	devkit__reg *r = call->arg;
	r->close_call = call;
	begin_close(r);
}

int devkit_registration_close(devkit_registration *reg)
{
	if (!reg)
		return 0;
	devkit__reg *r = &reg->r;
	devkit__call call = { .fn = do_close, .arg = r };
	int rc = devkit__call_run(r->ctx, &call);
	if (rc == DEVKIT_ECLOSED && !call.done)
		return rc; /* the engine is shutting down and closes it itself */
	char message[1024];
	snprintf(message, sizeof(message), "%s", call.message);
	/* DEREGISTERED is published: waiters return; free once they have. */
	uv_mutex_lock(&r->lock);
	while (r->waiters > 0)
		uv_cond_wait(&r->cond, &r->lock);
	uv_mutex_unlock(&r->lock);
	reg_free(r);
	return rc < 0 ? devkit__error_set_str(rc, message) : 0;
}

void devkit_registration_free(devkit_registration *reg)
{
	devkit_registration_close(reg);
}

devkit__reg *devkit__reg_of(devkit_registration *reg)
{
	return reg ? &reg->r : NULL;
}
