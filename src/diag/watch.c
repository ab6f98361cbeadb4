/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_diag_events_watch: the events of a Pod and its owners as they are
 * recorded. The existing ones are listed first (on the caller's thread,
 * like devkit_diag_events); then one watch=true stream per object runs on
 * the loop from the list's resourceVersion, with the same field selector
 * and the same filtering on our side.
 *
 * A watch ends now and then: the API server closes it after its timeout
 * (a clean end: watched again at once, from the last resourceVersion), a
 * proxy cuts it (watched again after a backoff), or the resourceVersion is
 * too old ("410 Gone"/"Expired": listed again, and only events whose
 * resourceVersion we have not passed on yet go to the reader). A repeated
 * event comes back as MODIFIED with a higher count.
 */
#include "diag_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/list.h"
#include "k8s/k8s_int.h"

#define MAX_OBJECTS 4
#define BACKOFF_FIRST_MS 250u
#define BACKOFF_MAX_MS 8000u
#define MAX_FAILURES 10u
#define QUEUE_MAX (8u * 1024 * 1024)

typedef struct watch_stream {
	devkit_diag_watch *w;
	char kind[64];
	char name[256];
	char uid[128];
	char rv[64];                 /* watch from here */
	char path_base[2200];        /* ".../events?fieldSelector=..." */
	devkit__k8s_req *req;
	devkit__bytes partial;
	uv_timer_t timer;
	unsigned int failures;
	int got_data;
	int expired;                 /* the server said 410: list again */
} watch_stream;

struct devkit_diag_watch {
	devkit_k8s *k;
	devkit_ctx *ctx;
	char pod[256];
	char ns[256];
	watch_stream s[MAX_OBJECTS];
	int n;
	json_t *seen;                /* event uid -> resourceVersion passed on (loop) */
	uv_async_t wake;
	int handles;
	devkit__closeable closeable;

	/* shared */
	uv_mutex_t lock;
	uv_cond_t cond;
	devkit__bytes queue;         /* JSON lines */
	int ended;
	int end_rc;
	char end_msg[1024];
	int user_freed, closing, loop_done;
};

static void watch_stream_start(watch_stream *s);

/* --- the end ------------------------------------------------------------------------ */

static void mark_ended(devkit_diag_watch *w, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void mark_ended(devkit_diag_watch *w, int rc, const char *fmt, ...)
{
	va_list ap;
	uv_mutex_lock(&w->lock);
	if (!w->ended) {
		w->ended = 1;
		w->end_rc = rc;
		va_start(ap, fmt);
		vsnprintf(w->end_msg, sizeof(w->end_msg), fmt, ap);
		va_end(ap);
	}
	uv_cond_broadcast(&w->cond);
	uv_mutex_unlock(&w->lock);
}

static void discard(devkit_diag_watch *w)
{
	for (int i = 0; i < w->n; i++)
		devkit__bytes_free(&w->s[i].partial);
	devkit__bytes_free(&w->queue);
	json_decref(w->seen);
	uv_cond_destroy(&w->cond);
	uv_mutex_destroy(&w->lock);
	free(w);
}

static void handle_closed(devkit_diag_watch *w)
{
	if (--w->handles > 0)
		return;
	uv_mutex_lock(&w->lock);
	w->loop_done = 1;
	int freed = w->user_freed;
	uv_mutex_unlock(&w->lock);
	if (freed)
		discard(w);
}

static void on_wake_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

static void on_timer_closed(uv_handle_t *h)
{
	watch_stream *s = h->data;
	handle_closed(s->w);
}

static void teardown(devkit_diag_watch *w, int rc, const char *why)
{
	uv_mutex_lock(&w->lock);
	int closing = w->closing;
	w->closing = 1;
	uv_mutex_unlock(&w->lock);
	if (closing)
		return;
	devkit__ctx_untrack(&w->closeable);
	for (int i = 0; i < w->n; i++) {
		devkit__k8s_request_cancel(w->s[i].req);
		w->s[i].req = NULL;
		uv_timer_stop(&w->s[i].timer);
		uv_close((uv_handle_t *)&w->s[i].timer, on_timer_closed);
	}
	mark_ended(w, rc, "events of %s/%s: %s", w->ns, w->pod, why);
	uv_close((uv_handle_t *)&w->wake, on_wake_closed);
}

static void on_ctx_shutdown(devkit__closeable *c)
{
	devkit_diag_watch *w = devkit__container_of(c, devkit_diag_watch, closeable);
	teardown(w, DEVKIT_ECLOSED, "the devkit context is shutting down");
}

static void on_wake(uv_async_t *a)
{
	devkit_diag_watch *w = a->data;
	teardown(w, DEVKIT_ECLOSED, "closed");
}

/* The watch cannot go on: stop every stream, the reader gets the error
 * after what was queued. */
static void fail(devkit_diag_watch *w, int rc, const char *message)
{
	for (int i = 0; i < w->n; i++) {
		devkit__k8s_request_cancel(w->s[i].req);
		w->s[i].req = NULL;
		uv_timer_stop(&w->s[i].timer);
	}
	mark_ended(w, rc, "events of %s/%s: %s", w->ns, w->pod, message);
}

/* --- events ----------------------------------------------------------------------------- */

/* Pass an event on unless it is not ours or was passed on at this version. */
static void offer(devkit_diag_watch *w, const watch_stream *s, const json_t *ev,
	const char *action)
{
	const char *uid = devkit__json_path_str(ev, "metadata.uid");
	const char *rv = devkit__json_path_str(ev, "metadata.resourceVersion");
	if (!devkit__diag_event_about(ev, s->kind, s->name, s->uid[0] ? s->uid : NULL))
		return;
	if (strcmp(s->kind, "Pod") != 0 && devkit__diag_event_sibling(ev, w->pod))
		return;
	const char *seen = uid ? json_string_value(json_object_get(w->seen, uid)) : NULL;
	if (seen && rv && strcmp(seen, rv) == 0)
		return;
	if (uid && rv)
		json_object_set_new(w->seen, uid, json_string(rv));
	json_t *c = devkit__diag_event_compact(ev);
	if (!c)
		return;
	json_object_set_new(c, "action", json_string(action));
	char *line = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (!line)
		return;
	uv_mutex_lock(&w->lock);
	/* memory stays bounded: past QUEUE_MAX unread bytes (tens of thousands
	 * of events) a reader that does not read misses the newest */
	if (devkit__bytes_avail(&w->queue) < QUEUE_MAX) {
		devkit__bytes_append(&w->queue, line, strlen(line));
		devkit__bytes_append(&w->queue, "\n", 1);
	}
	uv_cond_broadcast(&w->cond);
	uv_mutex_unlock(&w->lock);
	free(line);
}

static void take_line(watch_stream *s, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg = json_loadb(line, len, 0, &jerr);
	const char *type = devkit__json_path_str(msg, "type");
	const json_t *obj = json_object_get(msg, "object");
	const char *rv = devkit__json_path_str(obj, "metadata.resourceVersion");
	if (!type) {
		json_decref(msg);
		return;
	}
	if (strcmp(type, "ERROR") == 0) {
		/* 410 Gone: our resourceVersion is too old (the server says so
		 * in the stream, and then ends it) */
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		if (code == 410)
			s->expired = 1;
	} else {
		if (rv && *rv)
			snprintf(s->rv, sizeof(s->rv), "%s", rv);
		if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0)
			offer(s->w, s, obj, type);
	}
	json_decref(msg);
}

static int on_data(void *data, const char *bytes, size_t len)
{
	watch_stream *s = data;
	s->got_data = 1;
	if (devkit__bytes_append(&s->partial, bytes, len) != 0)
		return 1;
	for (;;) {
		const char *head = devkit__bytes_head(&s->partial);
		size_t avail = devkit__bytes_avail(&s->partial);
		const char *nl = memchr(head, '\n', avail);
		if (!nl)
			break;
		take_line(s, head, (size_t)(nl - head));
		devkit__bytes_consume(&s->partial, (size_t)(nl - head) + 1);
	}
	return 0;
}

/* --- streams --------------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
	watch_stream_start(t->data);
}

static void again_later(watch_stream *s, unsigned int delay)
{
	uv_timer_start(&s->timer, on_timer, delay, 0);
}

/* After 410: list again, pass on what is new, watch from the list. */
static void on_relist(void *data, const devkit__k8s_answer *a)
{
	watch_stream *s = data;
	s->req = NULL;
	if (a->rc < 0) {
		if (++s->failures > MAX_FAILURES) {
			fail(s->w, a->rc, a->message);
			return;
		}
		again_later(s, BACKOFF_MAX_MS);
		return;
	}
	json_error_t jerr;
	json_t *list = json_loadb(a->body, a->body_len, 0, &jerr);
	json_t *items = json_incref(json_object_get(list, "items"));
	if (!items)
		items = json_array();
	devkit__diag_events_sort(items);
	size_t i;
	json_t *ev;
	json_array_foreach(items, i, ev)
		offer(s->w, s, ev, "ADDED");
	const char *rv = devkit__json_path_str(list, "metadata.resourceVersion");
	snprintf(s->rv, sizeof(s->rv), "%s", rv ? rv : "");
	json_decref(items);
	json_decref(list);
	s->expired = 0;
	watch_stream_start(s);
}

static void on_end(void *data, const devkit__k8s_answer *a)
{
	watch_stream *s = data;
	s->req = NULL;
	devkit__bytes_reset(&s->partial);
	if (s->expired || a->status == 410) {
		s->req = devkit__k8s_request_start(s->w->k, "GET", s->path_base, NULL, on_relist, s);
		if (!s->req)
			fail(s->w, DEVKIT_ERROR, devkit_error_last() ? devkit_error_last()->message : "?");
		return;
	}
	if (a->rc == DEVKIT_ECLOSED && a->status == 0) {
		fail(s->w, a->rc, a->message);
		return;
	}
	if (a->rc < 0 && a->status >= 400 && a->status < 500 && a->status != 429) {
		fail(s->w, a->rc, a->message);
		return;
	}
	if (s->got_data || a->rc == 0)
		s->failures = 0;
	if (++s->failures > MAX_FAILURES) {
		fail(s->w, a->rc < 0 ? a->rc : DEVKIT_EIO, a->rc < 0 ? a->message
			: "the server keeps ending the watch at once");
		return;
	}
	/* a clean end is the server's watch timeout: again at once */
	unsigned int delay = a->rc == 0 ? 0 : BACKOFF_FIRST_MS << (s->failures > 6 ? 5
		: s->failures - 1);
	again_later(s, delay > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay);
}

static void watch_stream_start(watch_stream *s)
{
	char path[2400];
	snprintf(path, sizeof(path), "%s&watch=true&allowWatchBookmarks=true%s%s", s->path_base,
		s->rv[0] ? "&resourceVersion=" : "", s->rv);
	s->got_data = 0;
	s->req = devkit__k8s_stream_start(s->w->k, path, on_data, on_end, s);
	if (!s->req)
		fail(s->w, DEVKIT_ERROR, devkit_error_last() ? devkit_error_last()->message : "?");
}

static void do_start(devkit__call *call)
{
	devkit_diag_watch *w = call->arg;
	uv_async_init(&w->ctx->loop, &w->wake, on_wake);
	w->wake.data = w;
	w->handles = 1 + w->n;
	for (int i = 0; i < w->n; i++) {
		uv_timer_init(&w->ctx->loop, &w->s[i].timer);
		w->s[i].timer.data = &w->s[i];
	}
	w->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(w->ctx, &w->closeable);
	for (int i = 0; i < w->n; i++)
		watch_stream_start(&w->s[i]);
	devkit__call_done(call, w->ctx, 0);
}

/* --- the public calls ----------------------------------------------------------------- */

/* List one object's events (caller's thread): pass them to `initial`, keep
 * the list's resourceVersion. */
static int list_initial(devkit_diag_watch *w, watch_stream *s, json_t *initial)
{
	json_t *list = NULL;
	int rc = devkit__k8s_get_json(w->k, s->path_base, &list);
	if (rc < 0)
		return rc;
	const char *rv = devkit__json_path_str(list, "metadata.resourceVersion");
	snprintf(s->rv, sizeof(s->rv), "%s", rv ? rv : "");
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(list, "items"), i, ev) {
		const char *uid = devkit__json_path_str(ev, "metadata.uid");
		const char *erv = devkit__json_path_str(ev, "metadata.resourceVersion");
		if (!devkit__diag_event_about(ev, s->kind, s->name, s->uid[0] ? s->uid : NULL) ||
			(strcmp(s->kind, "Pod") != 0 && devkit__diag_event_sibling(ev, w->pod)))
			continue;
		if (uid && erv)
			json_object_set_new(w->seen, uid, json_string(erv));
		json_array_append(initial, ev);
	}
	json_decref(list);
	return 0;
}

int devkit_diag_events_watch(devkit_diag_watch **out, devkit_k8s *k8s,
	const char *namespace_name, const char *pod)
{
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_diag_events_watch: out is NULL");
	*out = NULL;
	const char *ns = namespace_name;
	json_t *p = NULL;
	int rc = devkit__diag_read_pod("devkit_diag_events_watch", k8s, &ns, pod, &p);
	if (rc < 0)
		return rc;
	devkit_diag_watch *w = calloc(1, sizeof(*w));
	json_t *chain = devkit__diag_owner_chain(k8s, ns, p);
	json_decref(p);
	if (!w || !chain || !(w->seen = json_object())) {
		free(w);
		json_decref(chain);
		return devkit__error_set(DEVKIT_ENOMEM, "devkit_diag_events_watch: out of memory");
	}
	w->k = k8s;
	w->ctx = devkit__k8s_ctx(k8s);
	snprintf(w->ns, sizeof(w->ns), "%s", ns);
	snprintf(w->pod, sizeof(w->pod), "%s", pod);
	uv_mutex_init(&w->lock);
	uv_cond_init(&w->cond);
	json_t *initial = json_array();
	size_t i;
	json_t *link;
	json_array_foreach(chain, i, link) {
		if (w->n == MAX_OBJECTS)
			break;
		watch_stream *s = &w->s[w->n];
		s->w = w;
		snprintf(s->kind, sizeof(s->kind), "%s", devkit__json_path_str(link, "kind"));
		snprintf(s->name, sizeof(s->name), "%s", devkit__json_path_str(link, "name"));
		snprintf(s->uid, sizeof(s->uid), "%s", devkit__json_path_str(link, "uid") ?
			devkit__json_path_str(link, "uid") : "");
		char selector[600], esc[1800];
		snprintf(selector, sizeof(selector), "involvedObject.kind=%s,involvedObject.name=%s",
			s->kind, s->name);
		devkit__diag_query_escape(selector, esc, sizeof(esc));
		snprintf(s->path_base, sizeof(s->path_base),
			"/api/v1/namespaces/%s/events?fieldSelector=%s", ns, esc);
		rc = list_initial(w, s, initial);
		if (rc < 0 && i == 0)
			break;
		if (rc < 0) {
			/* an owner's events we may not read are left out */
			devkit_error_clear();
			rc = 0;
			continue;
		}
		w->n++;
	}
	json_decref(chain);
	if (rc < 0) {
		json_decref(initial);
		discard(w);
		return rc;
	}
	devkit__diag_events_sort(initial);
	json_t *ev;
	json_array_foreach(initial, i, ev) {
		json_t *c = devkit__diag_event_compact(ev);
		json_object_set_new(c, "action", json_string("ADDED"));
		char *line = json_dumps(c, JSON_COMPACT);
		json_decref(c);
		if (line) {
			devkit__bytes_append(&w->queue, line, strlen(line));
			devkit__bytes_append(&w->queue, "\n", 1);
			free(line);
		}
	}
	json_decref(initial);
	devkit__call call = { .fn = do_start, .arg = w };
	rc = devkit__call_run(w->ctx, &call);
	if (rc < 0) {
		discard(w);
		return rc;
	}
	*out = w;
	devkit_error_clear();
	return 0;
}

int devkit_diag_watch_read(devkit_diag_watch *w, devkit_buf *event_json, int timeout_ms)
{
	if (!w || !event_json)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_diag_watch_read: the watch and buffer "
			"are required");
	uint64_t deadline = uv_hrtime() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	int rc = 0;
	uv_mutex_lock(&w->lock);
	for (;;) {
		size_t avail = devkit__bytes_avail(&w->queue);
		if (avail > 0) {
			const char *head = devkit__bytes_head(&w->queue);
			const char *nl = memchr(head, '\n', avail);
			size_t n = nl ? (size_t)(nl - head) : avail;
			char *s = malloc(n + 1);
			if (!s) {
				rc = devkit__error_set(DEVKIT_ENOMEM, "devkit_diag_watch_read: out of memory");
				break;
			}
			memcpy(s, head, n);
			s[n] = '\0';
			devkit__bytes_consume(&w->queue, n + (nl ? 1 : 0));
			devkit_buf_dispose(event_json);
			event_json->ptr = s;
			event_json->size = n;
			event_json->reserved = n + 1;
			rc = 1;
			break;
		}
		if (w->ended) {
			rc = devkit__error_set_str(w->end_rc, w->end_msg);
			break;
		}
		if (timeout_ms == 0)
			break;
		if (timeout_ms < 0) {
			uv_cond_wait(&w->cond, &w->lock);
			continue;
		}
		uint64_t now = uv_hrtime();
		if (now >= deadline)
			break;
		uv_cond_timedwait(&w->cond, &w->lock, deadline - now);
	}
	uv_mutex_unlock(&w->lock);
	return rc;
}

void devkit_diag_watch_free(devkit_diag_watch *w)
{
	if (!w)
		return;
	uv_mutex_lock(&w->lock);
	w->user_freed = 1;
	int loop_done = w->loop_done;
	if (!loop_done && !w->closing)
		uv_async_send(&w->wake);
	uv_mutex_unlock(&w->lock);
	if (loop_done)
		discard(w);
}
