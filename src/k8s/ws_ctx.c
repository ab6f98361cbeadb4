/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's libwebsockets context. libwebsockets runs on the engine's
 * own uv_loop_t (LWS_SERVER_OPTION_LIBUV with foreign_loops), so its sockets
 * and timers are serviced by the I/O thread like everything else; no thread
 * of its own, no second loop.
 *
 * What libwebsockets 4.1 needs from its host, learned by running it (see
 * docs/k8s.md, "Streaming"):
 *   - EXPLICIT_VHOSTS: without it the context makes a default vhost whose
 *     client TLS context loads the whole system trust store, ~5000
 *     allocations nobody uses (each of our vhosts has its own SSL_CTX).
 *   - UV_NO_SIGSEGV_SIGFPE_SPIN and signal_cb: a library must not take
 *     signals from its application (with a foreign loop libwebsockets
 *     installs none, but the options say so whatever the version).
 *   - Destruction on a foreign loop takes two lws_context_destroy() calls:
 *     the first closes the connections and then libwebsockets' own idle
 *     and timer handles (asynchronously, as libuv closes), the second
 *     frees the vhosts and the context and unloads the plugin. One call
 *     leaves the context allocated (LeakSanitizer shows it); a second call
 *     made too early frees memory and code the pending close callbacks
 *     still use (a crash in a dlclose'd plugin). The engine's loop cannot
 *     run after its shutdown, so the shutdown polls on a 1 ms timer until
 *     no handle of libwebsockets' is left on the loop, then makes the
 *     second call.
 *   - Its log goes to stderr by default; a library must not write there.
 *     The process-wide log hook forwards errors and warnings to the engine
 *     whose thread logged them, at debug level.
 */
#include "ws_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/error.h"
#include "ws_tls.h"

#define SWEEP_MS 10000u
/* At shutdown, how many 1 ms ticks to wait for libwebsockets to let go. */
#define DESTROY_TRIES 5000

unsigned int devkit__ws_vhost_linger_ms = 60000;

struct devkit__ws_vhost {
	devkit__list node;         /* wc->vhosts */
	devkit__ws_ctx *wc;
	struct lws_vhost *vh;
	SSL_CTX *ssl;              /* ours: libwebsockets does not free a provided one */
	unsigned char key[32];     /* SHA-256 of the TLS material: which vhost serves whom */
	int refs;
	uint64_t idle_since;       /* loop time the last user left */
};

/* --- the process's engines ------------------------------------------------- */

static uv_once_t once = UV_ONCE_INIT;
static uv_mutex_t registry_lock;
static devkit__ws_ctx *registry;

static void log_emit(int level, const char *line)
{
	devkit_ctx *ctx = NULL;
	uv_mutex_lock(&registry_lock);
	for (devkit__ws_ctx *wc = registry; wc; wc = wc->next)
		if (devkit__on_loop(wc->ctx))
			ctx = wc->ctx;
	uv_mutex_unlock(&registry_lock);
	if (!ctx || !devkit__log_enabled(ctx, DEVKIT_LOG_DEBUG))
		return;
	/* libwebsockets' lines start with a timestamp and end with a newline. */
	const char *text = strstr(line, "] ");
	text = text ? text + 2 : line;
	int len = (int)strcspn(text, "\n");
	devkit__log(ctx, DEVKIT_LOG_DEBUG, "libwebsockets (%s): %.*s",
		level == LLL_ERR ? "error" : "warning", len, text);
}

static void global_init(void)
{
	uv_mutex_init(&registry_lock);
	/* Process-wide in libwebsockets: set once, before the first context. */
	lws_set_log_level(LLL_ERR | LLL_WARN, log_emit);
}

static void registry_remove(devkit__ws_ctx *wc)
{
	uv_mutex_lock(&registry_lock);
	for (devkit__ws_ctx **p = &registry; *p; p = &(*p)->next)
		if (*p == wc) {
			*p = wc->next;
			break;
		}
	uv_mutex_unlock(&registry_lock);
}

/* --- vhosts ------------------------------------------------------------------- */

static void on_vhost_finalize(struct lws_vhost *vh, void *arg)
{
	(void)vh;
	SSL_CTX_free(arg);
}

static void material_key(int tls, const char *ca, const char *cert, const char *key,
	unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 32;
	const char *parts[] = { tls ? "tls" : "plain", ca, cert, key };
	memset(out, 0, 32);
	if (!md)
		return;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		/* Length-prefixed, so that no two different sets hash alike. */
		size_t len = parts[i] ? strlen(parts[i]) + 1 : 0;
		EVP_DigestUpdate(md, &len, sizeof(len));
		if (len)
			EVP_DigestUpdate(md, parts[i], len);
	}
	EVP_DigestFinal_ex(md, out, &n);
	EVP_MD_CTX_free(md);
}

devkit__ws_vhost *devkit__ws_vhost_get(devkit__ws_ctx *wc, int tls, const char *ca_pem,
	const char *cert_pem, const char *key_pem, char *why, size_t cap)
{
	unsigned char key[32];
	material_key(tls, ca_pem, cert_pem, key_pem, key);
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &wc->vhosts) {
		devkit__ws_vhost *v = devkit__container_of(pos, devkit__ws_vhost, node);
		if (memcmp(v->key, key, sizeof(key)) == 0) {
			v->refs++;
			return v;
		}
	}
	devkit__ws_vhost *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	if (tls && !(v->ssl = devkit__ws_tls_ctx(ca_pem, cert_pem, key_pem, why, cap))) {
		free(v);
		return NULL;
	}
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	char name[32];
	snprintf(name, sizeof(name), "devkit-%02x%02x%02x%02x", key[0], key[1], key[2], key[3]);
	info.vhost_name = name;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = devkit__ws_protocols;
	if (tls) {
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.provided_client_ssl_ctx = v->ssl;
		info.finalize = on_vhost_finalize;
		info.finalize_arg = v->ssl;
	}
	v->vh = lws_create_vhost(wc->lws, &info);
	if (!v->vh) {
		SSL_CTX_free(v->ssl);
		free(v);
		snprintf(why, cap, "libwebsockets cannot make a client context");
		return NULL;
	}
	memcpy(v->key, key, sizeof(key));
	v->wc = wc;
	v->refs = 1;
	devkit__list_push(&wc->vhosts, &v->node);
	return v;
}

struct lws_vhost *devkit__ws_vhost_lws(const devkit__ws_vhost *v)
{
	return v->vh;
}

void devkit__ws_vhost_put(devkit__ws_vhost *v)
{
	if (v && --v->refs == 0)
		v->idle_since = uv_now(&v->wc->ctx->loop);
}

static void sweep(devkit__ws_ctx *wc)
{
	uint64_t now = uv_now(&wc->ctx->loop);
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &wc->vhosts) {
		devkit__ws_vhost *v = devkit__container_of(pos, devkit__ws_vhost, node);
		if (v->refs > 0 || now - v->idle_since < devkit__ws_vhost_linger_ms)
			continue;
		/* Its TLS context (the client key in it) goes with it, in finalize. */
		devkit__list_remove(&v->node);
		lws_vhost_destroy(v->vh);
		free(v);
	}
}

/* --- life and death ------------------------------------------------------------ */

static void on_timer_closed(uv_handle_t *h)
{
	devkit__ws_ctx *wc = h->data;
	free(wc);
}

/* After the context is gone: what libwebsockets never told us about. */
static void free_leftovers(devkit__ws_ctx *wc)
{
	while (!devkit__list_empty(&wc->conns))
		devkit__ws_free_leftover(devkit__ws_of_node(wc->conns.next));
	while (!devkit__list_empty(&wc->vhosts)) {
		devkit__ws_vhost *v = devkit__container_of(wc->vhosts.next, devkit__ws_vhost, node);
		devkit__list_remove(&v->node);
		free(v); /* its vhost and SSL_CTX went with the context */
	}
}

typedef struct handle_search {
	void *data;
	int found;
} handle_search;

static void look(uv_handle_t *h, void *arg)
{
	handle_search *hs = arg;
	if (h->data == hs->data)
		hs->found = 1;
}

static int lws_handles_left(devkit__ws_ctx *wc)
{
	handle_search hs = { wc->lws, 0 };
	uv_walk(&wc->ctx->loop, look, &hs);
	return hs.found;
}

static void on_timer(uv_timer_t *t)
{
	devkit__ws_ctx *wc = t->data;
	if (!wc->stopping) {
		sweep(wc);
		return;
	}
	/* The second destroy frees the vhosts and the context, and sets wc->lws
	 * to NULL (info.pcontext) once it has; it also unloads the libuv
	 * plugin. So it must wait until libwebsockets' own handles (an idle and
	 * a timer, whose data is the context, closed after the last
	 * connection's) have finished closing: their close callbacks live in
	 * the plugin and in the context. */
	if (wc->lws && lws_handles_left(wc) && ++wc->destroy_tries < DESTROY_TRIES)
		return;
	if (wc->lws)
		lws_context_destroy(wc->lws);
	if (wc->lws && ++wc->destroy_tries < DESTROY_TRIES)
		return;
	if (wc->lws)
		devkit__log(wc->ctx, DEVKIT_LOG_WARN,
			"libwebsockets did not finish tearing down; its context is left allocated");
	free_leftovers(wc);
	uv_close((uv_handle_t *)&wc->timer, on_timer_closed);
}

static void on_shutdown(devkit__closeable *c)
{
	devkit__ws_ctx *wc = devkit__container_of(c, devkit__ws_ctx, closeable);
	if (wc->stopping)
		return;
	wc->stopping = 1;
	devkit__ctx_untrack(&wc->closeable);
	registry_remove(wc);
	/* Owners first hear ECLOSED, while their connections still exist. An
	 * owner may end other connections from its callback (a port-forward
	 * its siblings), so start from the head again after each. */
	for (int again = 1; again;) {
		again = 0;
		devkit__list *pos, *tmp;
		devkit__list_each(pos, tmp, &wc->conns) {
			if (devkit__ws_shutdown_conn(devkit__ws_of_node(pos))) {
				again = 1;
				break;
			}
		}
	}
	lws_context_destroy(wc->lws);
	/* Now the timer must keep the loop alive until the second destroy. */
	uv_ref((uv_handle_t *)&wc->timer);
	uv_timer_start(&wc->timer, on_timer, 0, 1);
}

devkit__ws_ctx *devkit__ws_ctx_get(devkit_ctx *ctx)
{
	uv_once(&once, global_init);
	uv_mutex_lock(&registry_lock);
	devkit__ws_ctx *wc = registry;
	while (wc && wc->ctx != ctx)
		wc = wc->next;
	uv_mutex_unlock(&registry_lock);
	if (wc)
		return wc;

	wc = calloc(1, sizeof(*wc));
	if (!wc) {
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	wc->ctx = ctx;
	devkit__list_init(&wc->conns);
	devkit__list_init(&wc->vhosts);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	void *loops[1] = { &ctx->loop };
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
		LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.foreign_loops = loops;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = devkit__ws_protocols;
	info.pcontext = &wc->lws;
	info.user = wc;
	/* 4.1 reads this for every service thread: one, the I/O thread. */
	info.count_threads = 1;
	/* A client's request line and headers are built in this buffer (4 KiB
	 * by default): an exec whose command is a few KiB once URL-encoded
	 * (command=...&command=...), next to a bearer token, would not fit and
	 * the connection would fail before it is sent. API servers take up to
	 * 1 MiB of headers; 64 KiB covers any command line worth typing. */
	info.pt_serv_buf_size = 64 * 1024;
	/* ... and the path is kept in the connection's header store first,
	 * whose size this is (an unsigned short; 4 KiB by default). */
	info.max_http_header_data = 60 * 1024;
	wc->lws = lws_create_context(&info);
	if (!wc->lws) {
		free(wc);
		devkit__error_set(DEVKIT_ERROR, "libwebsockets cannot start on the engine loop "
			"(is its libuv event library, libwebsockets-evlib-uv, installed?)");
		return NULL;
	}
	uv_timer_init(&ctx->loop, &wc->timer);
	wc->timer.data = wc;
	/* The sweep alone must not keep the loop alive. */
	uv_unref((uv_handle_t *)&wc->timer);
	unsigned int period = devkit__ws_vhost_linger_ms < SWEEP_MS ? devkit__ws_vhost_linger_ms
		: SWEEP_MS;
	uv_timer_start(&wc->timer, on_timer, period ? period : 1, period ? period : 1);
	wc->closeable.shutdown = on_shutdown;
	devkit__ctx_track(ctx, &wc->closeable);
	uv_mutex_lock(&registry_lock);
	wc->next = registry;
	registry = wc;
	uv_mutex_unlock(&registry_lock);
	if (devkit__log_enabled(ctx, DEVKIT_LOG_DEBUG))
		devkit__log(ctx, DEVKIT_LOG_DEBUG, "libwebsockets %s on the engine loop",
			lws_get_library_version());
	return wc;
}
