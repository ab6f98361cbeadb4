/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tunnel: the user's handle on "a session to this bastion", which outlives
 * any single SSH connection. It owns the options, the forwards and the
 * reconnect policy, and reports each state change as an event.
 */
#include "tunnel_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hostport.h"

int devkit_tunnel_options_init(devkit_tunnel_options *opts, unsigned int version)
{
	static const devkit_tunnel_options defaults = DEVKIT_TUNNEL_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_TUNNEL_OPTIONS_VERSION, "devkit_tunnel_options_init");
}

/* --- events --------------------------------------------------------------- */

void devkit__tunnel_emit(devkit_tunnel *t, devkit_event_type type, uint64_t forward_id,
	int error, const char *fmt, ...)
{
	devkit_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.tunnel_id = t->id;
	ev.forward_id = forward_id;
	ev.state = t->state;
	ev.error = error;
	ev.attempt = t->attempt;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev.message, sizeof(ev.message), fmt, ap);
	va_end(ap);
	if (forward_id) {
		devkit__list *pos, *tmp;
		devkit__list_each(pos, tmp, &t->forwards) {
			devkit_forward *f = devkit__container_of(pos, devkit_forward, node);
			if (f->id == forward_id) {
				ev.port = f->bound_port;
				snprintf(ev.address, sizeof(ev.address), "%s", f->address);
			}
		}
	}
	devkit__event_emit(t->ctx, &ev);
}

static void set_state(devkit_tunnel *t, devkit_tunnel_state state, int error, const char *why)
{
	__atomic_store_n(&t->state, state, __ATOMIC_RELAXED); /* read by other threads */
	t->stats.state = state;
	devkit__tunnel_emit(t, DEVKIT_EVENT_TUNNEL_STATE, 0, error, "%s%s%s",
		devkit_tunnel_state_name(state), why && *why ? ": " : "", why ? why : "");
}

/* --- lifetime ------------------------------------------------------------- */

/* Secrets do not outlive their use in freed heap memory. */
static void free_secret(const char *s)
{
	if (s) {
		explicit_bzero((char *)s, strlen(s));
		free((char *)s);
	}
}

static void tunnel_destroy_memory(devkit_tunnel *t)
{
	free(t->host);
	free(t->user);
	free(t->known_hosts_text);
	free(t->local_buf);
	free(t->channel_buf);
	free((char *)t->opts.bastion);
	free((char *)t->opts.identity_file);
	free_secret(t->opts.identity_passphrase);
	free_secret(t->opts.password);
	free((char *)t->opts.known_hosts_file);
	free((char *)t->opts.host_key_sha256);
	free((char *)t->opts.ciphers);
	free((char *)t->opts.macs);
	free((char *)t->opts.kex);
	free((char *)t->opts.user);
	free(t);
}

void devkit__tunnel_handle_closed(devkit_tunnel *t)
{
	if (--t->handles > 0 || !t->closing)
		return;
	devkit__call *call = t->free_call;
	devkit_ctx *ctx = t->ctx;
	tunnel_destroy_memory(t);
	if (call)
		devkit__call_done(call, ctx, 0);
}

static void on_tunnel_handle_closed(uv_handle_t *h)
{
	devkit__tunnel_handle_closed(h->data);
}

/* Start closing everything; memory goes when the last handle has closed. */
static void tunnel_shutdown(devkit_tunnel *t)
{
	if (t->closing)
		return;
	t->closing = 1;
	devkit__ctx_untrack(&t->closeable);
	if (t->open_call) {
		devkit__call_fail(t->open_call, t->ctx, DEVKIT_ECLOSED, "bastion %s:%d: the tunnel was closed",
			t->host, t->port);
		t->open_call = NULL;
	}
	devkit__list *pos, *tmp;
	devkit__open_fail_all(&t->waiting, DEVKIT_ECLOSED, "the tunnel was closed");
	devkit__list_each(pos, tmp, &t->forwards)
		devkit__forward_shutdown(devkit__container_of(pos, devkit_forward, node));
	if (t->session)
		devkit__session_destroy(t->session);
	if (t->state != DEVKIT_TUNNEL_CLOSED && t->sessions_up > 0)
		set_state(t, DEVKIT_TUNNEL_CLOSED, 0, NULL);
	uv_timer_stop(&t->reconnect_timer);
	uv_timer_stop(&t->tick);
	uv_close((uv_handle_t *)&t->reconnect_timer, on_tunnel_handle_closed);
	uv_close((uv_handle_t *)&t->tick, on_tunnel_handle_closed);
}

static void on_ctx_shutdown(devkit__closeable *c)
{
	tunnel_shutdown(devkit__container_of(c, devkit_tunnel, closeable));
}

/* --- sessions coming and going ------------------------------------------------ */

void devkit__tunnel_session_up(devkit_tunnel *t)
{
	t->sessions_up++;
	if (t->sessions_up > 1)
		t->stats.reconnects++;
	t->attempt = 0;
	set_state(t, DEVKIT_TUNNEL_UP, 0, t->session ? t->session->peer : NULL);
	if (t->open_call) {
		devkit__call_done(t->open_call, t->ctx, 0);
		t->open_call = NULL;
	}
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &t->forwards)
		devkit__forward_session_up(devkit__container_of(pos, devkit_forward, node), t->session);
	devkit__list_each(pos, tmp, &t->waiting) {
		devkit__open_req *req = devkit__container_of(pos, devkit__open_req, node);
		devkit__list_remove(pos);
		devkit__open_submit(t, req);
	}
	devkit__session_pump(t->session);
}

static void on_reconnect_timer(uv_timer_t *timer)
{
	devkit_tunnel *t = timer->data;
	if (t->closing || t->session)
		return;
	if (devkit__session_start(t) < 0) {
		const devkit_error *e = devkit_error_last();
		devkit__tunnel_session_failed(t, e ? e->code : DEVKIT_ERROR, e ? e->message : "cannot start");
	}
}

void devkit__tunnel_session_failed(devkit_tunnel *t, int code, const char *message)
{
	t->session = NULL;
	if (t->closing)
		return;
	if (t->open_call) {
		/* The first connection failed: devkit_tunnel_open reports it and the
		 * caller gets nothing to clean up. */
		devkit__call *call = t->open_call;
		t->open_call = NULL;
		devkit__call_fail(call, t->ctx, code, "%s", message);
		return;
	}
	int fatal = code == DEVKIT_EHOSTKEY || code == DEVKIT_EAUTH;
	t->attempt++;
	if (!t->opts.reconnect || fatal ||
		(t->opts.reconnect_max_attempts > 0 && t->attempt > t->opts.reconnect_max_attempts)) {
		devkit__open_fail_all(&t->waiting, code, message);
		if (t->state != DEVKIT_TUNNEL_DOWN)
			set_state(t, DEVKIT_TUNNEL_DOWN, code, message);
		return;
	}
	/* Capped exponential backoff: initial, 2x, 4x ... max. */
	uint64_t delay = (uint64_t)t->opts.reconnect_initial_ms;
	for (int i = 1; i < t->attempt && delay < (uint64_t)t->opts.reconnect_max_ms; i++)
		delay *= 2;
	if (delay > (uint64_t)t->opts.reconnect_max_ms)
		delay = (uint64_t)t->opts.reconnect_max_ms;
	char why[600];
	snprintf(why, sizeof(why), "attempt %d in %llu ms after: %s", t->attempt,
		(unsigned long long)delay, message);
	set_state(t, DEVKIT_TUNNEL_RECONNECTING, code, why);
	uv_timer_start(&t->reconnect_timer, on_reconnect_timer, delay, 0);
}

/* Channels asked for while the bastion is away wait, but not beyond the connect timeout. */
static void on_tick(uv_timer_t *timer)
{
	devkit_tunnel *t = timer->data;
	devkit__open_expire(t, devkit__now_ms(t));
}

/* --- public API ----------------------------------------------------------- */

static int dup_opt(const char **field, const char *value)
{
	*field = NULL;
	if (!value)
		return 0;
	*field = strdup(value);
	return *field ? 0 : DEVKIT_ENOMEM;
}

static char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	devkit__bytes b = DEVKIT__BYTES_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (devkit__bytes_append(&b, chunk, n) != 0)
			break;
	fclose(f);
	devkit__bytes_append(&b, "", 1);
	return b.data;
}

static int copy_options(devkit_tunnel *t, const devkit_tunnel_options *o)
{
	t->opts = *o;
	int rc = 0;
	rc |= dup_opt(&t->opts.bastion, o->bastion);
	rc |= dup_opt(&t->opts.user, o->user);
	rc |= dup_opt(&t->opts.identity_file, o->identity_file);
	rc |= dup_opt(&t->opts.identity_passphrase, o->identity_passphrase);
	rc |= dup_opt(&t->opts.password, o->password);
	rc |= dup_opt(&t->opts.host_key_sha256, o->host_key_sha256);
	rc |= dup_opt(&t->opts.ciphers, o->ciphers);
	rc |= dup_opt(&t->opts.macs, o->macs);
	rc |= dup_opt(&t->opts.kex, o->kex);
	if (o->known_hosts_file) {
		rc |= dup_opt(&t->opts.known_hosts_file, o->known_hosts_file);
	} else {
		const char *home = getenv("HOME");
		char *path = NULL;
		if (asprintf(&path, "%s/.ssh/known_hosts", home ? home : ".") < 0)
			return DEVKIT_ENOMEM;
		t->opts.known_hosts_file = path;
	}
	if (t->opts.connect_timeout_ms <= 0)
		t->opts.connect_timeout_ms = 15000;
	if (t->opts.keepalive_count_max <= 0)
		t->opts.keepalive_count_max = 3;
	if (t->opts.reconnect_initial_ms <= 0)
		t->opts.reconnect_initial_ms = 250;
	if (t->opts.reconnect_max_ms < t->opts.reconnect_initial_ms)
		t->opts.reconnect_max_ms = t->opts.reconnect_initial_ms;
	return rc ? DEVKIT_ENOMEM : 0;
}

typedef struct open_args {
	devkit_tunnel *t;
} open_args;

static void do_open(devkit__call *call)
{
	devkit_tunnel *t = ((open_args *)call->arg)->t;
	devkit_ctx *ctx = t->ctx;
	t->id = devkit__ctx_next_id(ctx);
	uv_timer_init(&ctx->loop, &t->reconnect_timer);
	uv_timer_init(&ctx->loop, &t->tick);
	t->reconnect_timer.data = t->tick.data = t;
	t->handles = 2;
	uv_timer_start(&t->tick, on_tick, 1000, 1000);
	t->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(ctx, &t->closeable);
	t->open_call = call;
	t->state = DEVKIT_TUNNEL_CONNECTING;
	t->stats.state = t->state;
	/* Failure to open is reported by the call, not as a state event: the
	 * application never saw this tunnel. */
	if (devkit__session_start(t) < 0) {
		const devkit_error *e = devkit_error_last();
		devkit__tunnel_session_failed(t, e ? e->code : DEVKIT_ERROR, e ? e->message : "cannot start");
	}
}

static void do_close(devkit__call *call)
{
	devkit_tunnel *t = call->arg;
	t->free_call = call;
	tunnel_shutdown(t);
}

int devkit_tunnel_open(devkit_tunnel **out, devkit_ctx *ctx, const devkit_tunnel_options *opts)
{
	if (!out || !ctx || !opts)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_tunnel_open: out, ctx and opts are required");
	*out = NULL;
	if (opts->version != DEVKIT_TUNNEL_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_tunnel_open: options version %u is not %u",
			opts->version, DEVKIT_TUNNEL_OPTIONS_VERSION);
	if (!opts->bastion || !*opts->bastion)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_tunnel_open: no bastion given");

	devkit__hostport hp;
	int rc = devkit__hostport_parse(opts->bastion, 1, 22, &hp);
	if (rc < 0)
		return rc;
	devkit_tunnel *t = calloc(1, sizeof(*t));
	if (!t)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	devkit__list_init(&t->forwards);
	devkit__list_init(&t->waiting);
	t->ctx = ctx;
	t->port = hp.port;
	t->host = strdup(hp.host);
	const char *user = opts->user ? opts->user : hp.user[0] ? hp.user : getenv("USER");
	if (!user)
		user = "root";
	t->user = strdup(user);
	t->local_buf = malloc(DEVKIT__LOCAL_READ);
	t->channel_buf = malloc(DEVKIT__LINK_CHUNK);
	if (!t->host || !t->user || !t->local_buf || !t->channel_buf || copy_options(t, opts) != 0) {
		tunnel_destroy_memory(t);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	/* Read known_hosts here, on the caller's thread: file I/O stays off the loop. */
	if (!t->opts.host_key_sha256)
		t->known_hosts_text = read_text_file(t->opts.known_hosts_file);

	open_args args = { t };
	devkit__call call = { .fn = do_open, .arg = &args };
	rc = devkit__call_run(ctx, &call);
	if (rc < 0) {
		/* The loop has let go of everything but the tunnel's own timers. */
		devkit__call close = { .fn = do_close, .arg = t };
		const devkit_error *e = devkit_error_last();
		char saved[1024];
		snprintf(saved, sizeof(saved), "%s", e ? e->message : devkit_strerror(rc));
		devkit__call_run(ctx, &close);
		return devkit__error_set_str(rc, saved);
	}
	*out = t;
	return 0;
}

void devkit_tunnel_free(devkit_tunnel *t)
{
	if (!t)
		return;
	devkit__call call = { .fn = do_close, .arg = t };
	devkit__call_run(t->ctx, &call);
}

devkit_ctx *devkit_tunnel_ctx(const devkit_tunnel *t)
{
	return t ? t->ctx : NULL;
}

uint64_t devkit_tunnel_id(const devkit_tunnel *t)
{
	return t ? t->id : 0;
}

int devkit_tunnel_get_state(devkit_tunnel *t)
{
	return t ? __atomic_load_n(&t->state, __ATOMIC_RELAXED) : DEVKIT_EINVAL;
}

static void fill_stats(void *object, void *out)
{
	devkit_tunnel *t = object;
	devkit_tunnel_stats *st = out;
	*st = t->stats;
	st->state = t->state;
	st->forwards = 0;
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &t->forwards)
		st->forwards++;
}

int devkit_tunnel_get_stats(devkit_tunnel *t, devkit_tunnel_stats *out)
{
	return devkit__get_stats(t ? t->ctx : NULL, t, out, DEVKIT_TUNNEL_STATS_VERSION,
		"devkit_tunnel_get_stats", fill_stats);
}

static void do_describe(devkit__call *call)
{
	devkit_tunnel *t = ((void **)call->arg)[0];
	devkit__bytes *b = ((void **)call->arg)[1];
	int rc = devkit__bytes_printf(b,
		"bastion=%s:%d\nuser=%s\nstate=%s\nhost_key=%s\nkex=%s\ncipher=%s\nmac=%s\nlibssh2=%s\n",
		t->host, t->port, t->user, devkit_tunnel_state_name(t->state),
		t->fingerprint, t->kex, t->cipher, t->mac, libssh2_version(0));
	devkit__call_done(call, t->ctx, rc);
}

int devkit_tunnel_describe(devkit_tunnel *t, devkit_buf *out)
{
	if (!t || !out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_tunnel_describe: tunnel and out are required");
	devkit__bytes b = DEVKIT__BYTES_INIT;
	void *args[2] = { t, &b };
	devkit__call call = { .fn = do_describe, .arg = args };
	int rc = devkit__call_run(t->ctx, &call);
	if (rc < 0) {
		devkit__bytes_free(&b);
		return rc;
	}
	devkit__bytes_give(&b, out);
	return 0;
}
