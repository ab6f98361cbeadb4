/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket: one request line in, one answer line out (see
 * src/preload/control.h). Requests of one client are answered in turn;
 * name lookups run in libuv's thread pool because devkit_dns_resolve waits.
 */
#include "route_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "preload/control.h"

static void on_client_closed(uv_handle_t *h);

static void client_unref(route_client *c)
{
	if (--c->refs > 0)
		return;
	devkit_router *r = c->router;
	devkit__bytes_free(&c->in);
	free(c);
	devkit__router_handle_closed(r);
}

static void on_client_closed(uv_handle_t *h)
{
	client_unref(h->data);
}

static void client_close(route_client *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	devkit__list_remove(&c->node);
	devkit__route_client_gone(c->router, c);
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

/* A client may buffer this much unanswered input, and leave this much of our
 * output unread, before it is dropped: a shim sends one line and waits. */
#define CLIENT_IN_MAX (64 * DEVKIT_CONTROL_MAX_LINE)
#define CLIENT_OUT_MAX (256 * 1024)

typedef struct reply_req {
	uv_write_t req;
	route_client *client;
	char line[DEVKIT_CONTROL_MAX_LINE];
} reply_req;

static void process(route_client *c);

static void on_reply_written(uv_write_t *req, int status)
{
	reply_req *w = (reply_req *)req;
	route_client *c = w->client; /* alive: write callbacks run before close callbacks */
	free(w);
	if (status == 0 && !c->closing)
		process(c); /* the next request may already be buffered */
}

void devkit__route_reply(route_client *c, const char *fmt, ...)
{
	c->busy = 0;
	if (c->closing)
		return;
	reply_req *w = malloc(sizeof(*w));
	if (!w || uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > CLIENT_OUT_MAX) {
		free(w);
		client_close(c);
		return;
	}
	w->client = c;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(w->line, sizeof(w->line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(w->line) - 2)
		n = (int)sizeof(w->line) - 2;
	w->line[n++] = '\n';
	uv_buf_t b = uv_buf_init(w->line, (unsigned int)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_reply_written) != 0) {
		free(w);
		client_close(c);
	}
	/* No processing of further lines here: a reply may be made from inside a
	 * loop over the routes, which the next request could change. process()
	 * loops by itself, and the write callback resumes it. */
}

/* --- RESOLVE, in the thread pool ------------------------------------------ */

typedef struct resolve_work {
	uv_work_t work;
	route_client *client;
	devkit_dns *dns;
	char name[256];
	int family;
	int rc;
	devkit_buf out;
	char message[300];
} resolve_work;

static void resolve_in_pool(uv_work_t *w)
{
	resolve_work *rw = w->data;
	rw->rc = devkit_dns_resolve(rw->dns, rw->name, rw->family, &rw->out);
	if (rw->rc < 0) {
		const devkit_error *e = devkit_error_last();
		snprintf(rw->message, sizeof(rw->message), "%s", e ? e->message : devkit_strerror(rw->rc));
	}
}

static void resolve_done(uv_work_t *w, int status)
{
	resolve_work *rw = w->data;
	route_client *c = rw->client;
	devkit_router *r = c->router;
	if (status == 0 && rw->rc == 0) {
		/* One address per line -> one line, space-separated, at most 16. */
		char line[DEVKIT_CONTROL_MAX_LINE] = "";
		size_t used = 0;
		int n = 0;
		for (char *p = rw->out.ptr; p && *p && n < DEVKIT_CONTROL_MAX_ADDRS; n++) {
			char *end = strchr(p, '\n');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			if (len == 0 || used + len + 2 >= sizeof(line))
				break;
			line[used++] = ' ';
			memcpy(line + used, p, len);
			used += len;
			line[used] = '\0';
			p = end ? end + 1 : p + len;
		}
		r->stats.resolved++;
		if (n > 0)
			devkit__route_reply(c, "OK%s", line);
		else
			devkit__route_reply(c, "NXDOMAIN");
	} else if (rw->rc == DEVKIT_ENOTFOUND) {
		devkit__route_reply(c, "NXDOMAIN");
	} else {
		devkit__route_reply(c, "ERROR %s", status ? "cancelled" : rw->message);
	}
	devkit_buf_dispose(&rw->out);
	free(rw);
	client_unref(c);
}

static void start_resolve(route_client *c, const char *name, int family)
{
	devkit_router *r = c->router;
	if (!r->dns) {
		devkit__route_reply(c, "ERROR this router has no resolver");
		return;
	}
	resolve_work *rw = calloc(1, sizeof(*rw));
	if (!rw) {
		devkit__route_reply(c, "ERROR out of memory");
		return;
	}
	rw->work.data = rw;
	rw->client = c;
	rw->dns = r->dns;
	rw->family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
	snprintf(rw->name, sizeof(rw->name), "%s", name);
	c->refs++;
	if (uv_queue_work(&r->ctx->loop, &rw->work, resolve_in_pool, resolve_done) != 0) {
		c->refs--;
		free(rw);
		devkit__route_reply(c, "ERROR cannot start the lookup");
	}
}

/* --- parsing ---------------------------------------------------------------- */

static int parse_port(const char *s, int allow_zero)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < (allow_zero ? 0 : 1) || v > 65535)
		return -1;
	return (int)v;
}

static int valid_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void handle_line(route_client *c, char *line)
{
	devkit_router *r = c->router;
	r->stats.requests++;
	char *argv[5] = { 0 };
	int argc = 0;
	for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && argc < 5;
		tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	c->busy = 1;
	if (argc == 3 && strcmp(argv[0], "RESOLVE") == 0) {
		int family = parse_port(argv[2], 1);
		if (family != 0 && family != 4 && family != 6) {
			devkit__route_reply(c, "ERROR bad family '%s'", argv[2]);
			return;
		}
		start_resolve(c, argv[1], family);
		return;
	}
	if (argc == 4 && (strcmp(argv[0], "ROUTE") == 0 || strcmp(argv[0], "OPEN") == 0)) {
		int src = parse_port(argv[1], 0), dst = parse_port(argv[3], 0);
		if (src < 0 || dst < 0 || !valid_ip(argv[2])) {
			devkit__route_reply(c, "ERROR malformed %s request", argv[0]);
			return;
		}
		int open = argv[0][0] == 'O';
		if (devkit__route_add(r, open ? c : NULL, src, argv[2], dst) != 0) {
			devkit__route_reply(c, "ERROR cannot add a route");
			return;
		}
		if (!open)
			devkit__route_reply(c, "OK %d", r->port);
		return; /* OPEN answers when its channel is open */
	}
	devkit__route_reply(c, "ERROR unknown request");
}

/* Answer the next complete line, if any and if none is being answered. */
static void process(route_client *c)
{
	while (!c->busy && !c->closing) {
		const char *head = devkit__bytes_head(&c->in);
		size_t avail = devkit__bytes_avail(&c->in);
		const char *nl = memchr(head, '\n', avail);
		if (!nl) {
			if (avail >= DEVKIT_CONTROL_MAX_LINE)
				client_close(c); /* not our protocol */
			return;
		}
		char line[DEVKIT_CONTROL_MAX_LINE];
		size_t len = (size_t)(nl - head);
		if (len >= sizeof(line)) {
			client_close(c);
			return;
		}
		memcpy(line, head, len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		devkit__bytes_consume(&c->in, len + 1);
		handle_line(c, line);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static _Thread_local char scratch[DEVKIT_CONTROL_MAX_LINE];
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(scratch, sizeof(scratch));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	route_client *c = s->data;
	if (n < 0) {
		client_close(c);
		return;
	}
	if (n == 0)
		return;
	if (devkit__bytes_avail(&c->in) + (size_t)n > CLIENT_IN_MAX ||
		devkit__bytes_append(&c->in, buf->base, (size_t)n) != 0) {
		client_close(c);
		return;
	}
	process(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	devkit_router *r = server->data;
	if (status < 0 || r->closing)
		return;
	route_client *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->router = r;
	c->refs = 1;
	uv_pipe_init(&r->ctx->loop, &c->pipe, 0);
	c->pipe.data = c;
	r->handles++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
		c->closing = 1;
		uv_close((uv_handle_t *)&c->pipe, on_client_closed);
		return;
	}
	devkit__list_push(&r->clients, &c->node);
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_server_closed(uv_handle_t *h)
{
	devkit__router_handle_closed(h->data);
}

int devkit__route_control_start(devkit_router *r, char *msg, size_t msglen)
{
	uv_pipe_init(&r->ctx->loop, &r->server, 0);
	r->server.data = r;
	r->server_open = 1;
	r->handles++;
	int rc = uv_pipe_bind(&r->server, r->path);
	if (rc == 0) {
		r->path_bound = 1; /* ours to remove; a path we failed to bind is someone else's */
		chmod(r->path, 0600); /* only this user's processes may route */
		rc = uv_listen((uv_stream_t *)&r->server, 128, on_connection);
	}
	if (rc != 0) {
		/* The caller shuts the router down, which closes the server. */
		snprintf(msg, msglen, "cannot listen on %s: %s", r->path, uv_strerror(rc));
		return rc == UV_EADDRINUSE ? DEVKIT_EEXISTS : DEVKIT_EIO;
	}
	return 0;
}

void devkit__route_control_stop(devkit_router *r)
{
	if (r->server_open) {
		r->server_open = 0;
		uv_close((uv_handle_t *)&r->server, on_server_closed);
	}
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &r->clients)
		client_close(devkit__container_of(pos, route_client, node));
}
