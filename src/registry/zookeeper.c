/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZooKeeper, the way Dubbo providers use it: ephemeral nodes that live as
 * long as one ZooKeeper session, kept alive by the client's own pings (no
 * heartbeat operation). Two layouts, chosen with ?layout= (default both):
 *
 *   interface  Dubbo 2 (ZookeeperRegistry.toUrlPath):
 *              /<group=dubbo>/<URL.encode(interface)>/providers/<URL.encode(full URL)>
 *              the URL "<protocol>://<host>:<port>/<interface>?k=v&..." with
 *              the parameters a provider writes, sorted by key as Dubbo's
 *              URL.toFullString does; URL.encode is Java's URLEncoder
 *   application  Dubbo 3 (ZookeeperServiceDiscovery on Curator):
 *              /services/<application>/<host>:<port>, data: the JSON of a
 *              Curator ServiceInstance<ZookeeperInstance>
 *
 * The URL's path is a chroot prefixed to every path (the nodes of the chroot
 * are created too, which the client's own chroot cannot do). Parents are
 * persistent; an ephemeral node that already exists (left by an earlier
 * session of ours) is deleted and written again.
 *
 * The C client's single-threaded flavour runs on the engine loop:
 * zookeeper_interest() says which fd, which events and when to call back;
 * a uv_poll and a uv_timer do so and zookeeper_process() runs on readiness.
 * Completions and the session watcher run inside zookeeper_process(), so
 * they only record what happened; the state machine is told afterwards
 * (settle()), never from inside the client. Host names are resolved with
 * the engine's resolver first: the client only ever sees numeric addresses,
 * so its getaddrinfo cannot block. Its log lines go to the engine's log.
 */
#include "registry_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <zookeeper/zookeeper.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/resolve.h"

#define ZK_MAX_NODES 32
#define ZK_MAX_ADDRS 16
#define ZK_MAX_PARAMS 64
/* What a Dubbo 2.7 provider writes; a consumer reads "dubbo" as the protocol
 * version and "release" as the framework's. Metadata may override both. */
#define DUBBO_PROTOCOL_VERSION "2.0.2"
#define DUBBO_RELEASE "2.7.23"
#define ZK_INSTANCE_CLASS "org.apache.dubbo.registry.zookeeper.ZookeeperInstance"

typedef enum zk_phase {
	PHASE_IDLE = 0,
	PHASE_RESOLVING,   /* the registry's host names, before the session */
	PHASE_CONNECTING,  /* waiting for the session (or for it to reconnect) */
	PHASE_WRITING,     /* creates in flight */
	PHASE_DELETING     /* deletes in flight */
} zk_phase;

/* What the session watcher saw, acted on once the client has returned. */
enum { EV_CONNECTED = 1, EV_RECONNECTED = 2, EV_DISCONNECTED = 4, EV_EXPIRED = 8,
	EV_AUTH_FAILED = 16 };

typedef struct zk_node {
	char *path;      /* full path, chroot included */
	char *data;      /* NULL: no data */
	int ephemeral;   /* ours; else a persistent parent */
} zk_node;

typedef struct zk zk;

/* One session: the client's handle and what drives it. */
typedef struct zk_session {
	zhandle_t *zh;
	zk *z;                 /* the owner; NULL once the session is being closed */
	devkit_ctx *ctx;
	char service[128];     /* for log lines of a session being closed */
	uv_poll_t *poll;       /* on the client's socket; NULL while it has none */
	int poll_fd;
	ino_t poll_ino;        /* the fd number may come back as another socket */
	int poll_events;
	uv_timer_t *timer;     /* the client's next deadline */
	int connected;
	int was_connected;
	int timeout_ms;        /* negotiated session timeout */
	int events;            /* EV_* not acted on yet */
	int failures;          /* connection attempts failed since the last success */
	int last_errno;        /* why the last one failed */
	int log_errno;         /* errno=N of the client's last socket error line */
} zk_session;

typedef struct zk_resolve {
	zk *z;
	devkit__resolve *handle;
	int index;
	int done;
} zk_resolve;

struct zk {
	devkit__reg *r;
	zk_node nodes[ZK_MAX_NODES];
	int nnodes;
	char layout[16];
	char hosts_text[600];  /* the registry's hosts, for messages */
	long long timestamp;   /* ms since the epoch, of init: Dubbo's "timestamp" */
	zk_session *s;
	int registered;        /* our ephemeral nodes may exist in this session */

	/* the operation in flight */
	devkit__reg_op op;
	zk_phase phase;
	unsigned int gen;      /* bumped per operation: late completions are ignored */
	int pending;           /* requests in flight */
	int failed_rc;         /* first failure of this operation (a ZOO_ERRORS code) */
	char failed_msg[512];
	int done;              /* the operation ended inside the client: report it */
	int done_rc;
	char done_msg[512];
	zk_resolve resolves[8];
	int resolving;
	devkit__bytes connect; /* "ip:port,ip:port" for zookeeper_init */
	int naddrs;
	int resolve_rc;
	char resolve_error[300];
	uv_timer_t *deadline;  /* the operation's timeout */
	uv_timer_t *lost;      /* disconnected while registered: the session's expiry */
};

typedef struct zk_req {
	zk_session *s;
	unsigned int gen;
	int node;
	int retry;             /* a create after deleting a stale node */
} zk_req;

static __thread zk_session *tl_session;  /* whose client is running: for its log lines */

static void settle(zk *z);
static void session_update(zk_session *s);
static void on_lost(uv_timer_t *t);

/* --- small helpers ------------------------------------------------------- */

static zk *zk_of(devkit__reg *r)
{
	return r->backend_data;
}

static zk_session *enter(zk_session *s)
{
	zk_session *prev = tl_session;
	tl_session = s;
	return prev;
}

static void leave(zk_session *prev)
{
	tl_session = prev;
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

static uv_timer_t *timer_new(uv_loop_t *loop, void *data)
{
	uv_timer_t *t = calloc(1, sizeof(*t));
	if (t) {
		uv_timer_init(loop, t);
		t->data = data;
	}
	return t;
}

static void timer_free(uv_timer_t *t)
{
	if (t) {
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, free_handle);
	}
}

static long long wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The code of registry_int.h for a ZooKeeper error. */
static int map_rc(int rc)
{
	switch (rc) {
	case ZOK:
		return 0;
	case ZNOAUTH:
		return DEVKIT_EFORBIDDEN;
	case ZAUTHFAILED:
	case ZSESSIONCLOSEDREQUIRESASLAUTH:
		return DEVKIT_EAUTH;
	case ZBADARGUMENTS:
	case ZINVALIDACL:
	case ZNOCHILDRENFOREPHEMERALS:
	case ZEPHEMERALONLOCALSESSION:
		return DEVKIT_EINVAL;
	case ZOPERATIONTIMEOUT:
		return DEVKIT_ETIMEOUT;
	case ZCLOSING:
		return DEVKIT_ECLOSED;
	default:
		return DEVKIT_EIO; /* connection loss, expiry, ...: try again */
	}
}

static int errno_rc(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return DEVKIT_ECONNREFUSED;
	case ETIMEDOUT:
	case 0:
		return DEVKIT_ETIMEOUT;
	default:
		return DEVKIT_EIO;
	}
}

static const char *errno_text(int err)
{
	/* The client sets EHOSTDOWN when the server closed the connection. */
	if (err == EHOSTDOWN)
		return "the server closed the connection (not serving yet?)";
	return err ? strerror(err) : "no answer";
}

/* --- the client's log lines ---------------------------------------------- */

/* Its lines look like "<time>:<pid>:ZOO_WARN@<function>@<line>: text". Its
 * errors are mostly connection failures that we report ourselves with more
 * context, so they go out at DEBUG; its INFO lines at TRACE. */
static void forward_log(zk_session *s, const char *message)
{
	devkit_log_level level = DEVKIT_LOG_TRACE;
	const char *text = message;
	const char *tag = strstr(message, ":ZOO_");
	if (tag) {
		tag++;
		if (strncmp(tag, "ZOO_ERROR", 9) == 0 || strncmp(tag, "ZOO_WARN", 8) == 0)
			level = DEVKIT_LOG_DEBUG;
		const char *colon = strstr(tag, ": ");
		if (colon)
			text = colon + 2;
	}
	const char *err = strstr(text, "errno=");
	if (err)
		s->log_errno = atoi(err + 6);
	int len = (int)strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (s->z)
		devkit__reg_log(s->z->r, level, "client: %.*s", len, text);
	else
		devkit__log(s->ctx, level, "registry zookeeper, service %s: client: %.*s", s->service,
			len, text);
}

static void on_client_log(const char *message)
{
	int saved = errno;
	if (tl_session && message)
		forward_log(tl_session, message);
	errno = saved;
}

/* --- driving the client on the loop -------------------------------------- */

/* After a call into the client: count a failed connection attempt. */
static void note_rc(zk_session *s, int rc, int err)
{
	if ((rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT) && !s->connected) {
		s->failures++;
		s->last_errno = s->log_errno ? s->log_errno :
			rc == ZOPERATIONTIMEOUT ? ETIMEDOUT : err;
	}
	s->log_errno = 0;
}

static void poll_close(zk_session *s)
{
	if (s->poll) {
		uv_poll_stop(s->poll);
		uv_close((uv_handle_t *)s->poll, free_handle);
		s->poll = NULL;
	}
	s->poll_fd = -1;
	s->poll_ino = 0;
	s->poll_events = 0;
}

static void on_poll(uv_poll_t *p, int status, int events);

/* Watch fd for interest. The client closes and opens sockets inside its
 * calls; a new socket may get the old number, so the inode tells them apart
 * (libuv must not keep watching a closed file). */
static void poll_sync(zk_session *s, int fd, int interest)
{
	ino_t ino = 0;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0)
		ino = st.st_ino;
	if (s->poll && (fd != s->poll_fd || ino != s->poll_ino))
		poll_close(s);
	if (fd < 0)
		return;
	if (!s->poll) {
		uv_poll_t *p = calloc(1, sizeof(*p));
		if (!p || uv_poll_init(&s->ctx->loop, p, fd) != 0) {
			free(p);
			return; /* the timer still drives the client; it will time out */
		}
		p->data = s;
		s->poll = p;
		s->poll_fd = fd;
		s->poll_ino = ino;
	}
	int want = ((interest & ZOOKEEPER_READ) ? UV_READABLE : 0) |
		((interest & ZOOKEEPER_WRITE) ? UV_WRITABLE : 0);
	if (want == s->poll_events)
		return;
	s->poll_events = want;
	if (want)
		uv_poll_start(s->poll, want, on_poll);
	else
		uv_poll_stop(s->poll);
}

static uint64_t timeval_ms(const struct timeval *tv)
{
	if (tv->tv_sec < 0)
		return 0;
	return (uint64_t)tv->tv_sec * 1000 + ((uint64_t)tv->tv_usec + 999) / 1000;
}

static void on_session_timer(uv_timer_t *t);

/* Ask the client what it waits for next and arrange for it. */
static void session_update(zk_session *s)
{
	int fd = -1, interest = 0;
	struct timeval tv = { 0, 0 };
	zk_session *prev = enter(s);
	int rc = zookeeper_interest(s->zh, &fd, &interest, &tv);
	int err = errno;
	leave(prev);
	note_rc(s, rc, err);
	if (rc == ZINVALIDSTATE) {
		/* Expired or refused for good: the watcher said so, react() closes it. */
		poll_close(s);
		uv_timer_stop(s->timer);
		return;
	}
	poll_sync(s, fd, interest);
	uv_timer_start(s->timer, on_session_timer, timeval_ms(&tv), 0);
}

static void drive(zk_session *s, int events)
{
	zk_session *prev = enter(s);
	int rc = zookeeper_process(s->zh, events);
	int err = errno;
	leave(prev);
	note_rc(s, rc, err);
	session_update(s);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	zk_session *s = p->data;
	int ev = 0;
	if (status < 0) {
		/* libuv stopped the handle (POLLERR): let the client read the error. */
		s->poll_events = 0;
		ev = ZOOKEEPER_READ | ZOOKEEPER_WRITE;
	} else {
		ev = ((events & UV_READABLE) ? ZOOKEEPER_READ : 0) |
			((events & UV_WRITABLE) ? ZOOKEEPER_WRITE : 0);
	}
	zk *z = s->z;
	drive(s, ev);
	if (z)
		settle(z); /* may close the session: s is not used after this */
}

static void on_session_timer(uv_timer_t *t)
{
	zk_session *s = t->data;
	zk *z = s->z;
	drive(s, 0);
	if (z)
		settle(z);
}

static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)path;
	int saved = errno;
	zk_session *s = ctx;
	if (s && type == ZOO_SESSION_EVENT) {
		if (state == ZOO_CONNECTED_STATE) {
			s->events |= s->was_connected ? EV_RECONNECTED : EV_CONNECTED;
			s->connected = s->was_connected = 1;
			s->failures = 0;
		} else if (state == ZOO_CONNECTING_STATE) {
			if (s->connected)
				s->events |= EV_DISCONNECTED;
			s->connected = 0;
		} else if (state == ZOO_EXPIRED_SESSION_STATE) {
			s->connected = 0;
			s->events |= EV_EXPIRED;
		} else if (state == ZOO_AUTH_FAILED_STATE) {
			s->connected = 0;
			s->events |= EV_AUTH_FAILED;
		}
	}
	errno = saved;
}

/* --- opening and closing sessions ----------------------------------------- */

static void add_auth(zk_session *s, devkit__reg *r)
{
	size_t n = strlen(r->username) + 1 + (r->password ? strlen(r->password) : 0);
	char *cert = malloc(n + 1);
	if (!cert)
		return;
	snprintf(cert, n + 1, "%s:%s", r->username, r->password ? r->password : "");
	/* Sent with every session establishment; the client keeps its own copy. */
	zoo_add_auth(s->zh, "digest", cert, (int)n, NULL, NULL);
	OPENSSL_cleanse(cert, n);
	free(cert);
}

static int session_open(zk *z, const char *connect)
{
	devkit__reg *r = z->r;
	zk_session *s = calloc(1, sizeof(*s));
	if (!s)
		return DEVKIT_ENOMEM;
	s->z = z;
	s->ctx = r->ctx;
	s->poll_fd = -1;
	snprintf(s->service, sizeof(s->service), "%s", r->service);
	s->timer = timer_new(&r->ctx->loop, s);
	if (!s->timer) {
		free(s);
		return DEVKIT_ENOMEM;
	}
	zk_session *prev = enter(s);
	s->zh = zookeeper_init2(connect, on_watch, (int)r->ttl_ms, NULL, s, ZOO_NO_LOG_CLIENTENV,
		on_client_log);
	int err = errno;
	if (s->zh) {
		/* The addresses are numeric: never look them up again. */
		zoo_set_servers_resolution_delay(s->zh, -1);
		if (r->username && r->username[0])
			add_auth(s, r);
	}
	leave(prev);
	if (!s->zh) {
		timer_free(s->timer);
		free(s);
		return err == ENOMEM ? DEVKIT_ENOMEM : DEVKIT_EINVAL;
	}
	z->s = s;
	session_update(s); /* starts connecting */
	return 0;
}

/* zookeeper_close() of a connected session sends the close request, then
 * waits up to 1.5 s for the answer with poll(POLLIN) — on our loop. Make that
 * wait end at once: shut the socket's read side, which poll reports as
 * readable. The request still goes out and the server applies it as a
 * transaction whether or not we read the reply (measured: the session is
 * gone from `mntr` at once). What came in before is read and dropped first
 * (nothing we still want): a socket closed with unread data sends a reset,
 * which could make the server drop the request. If the socket cannot take
 * the request now, do not wait for room: the session ends with its timeout. */
static void make_close_quick(int fd)
{
	char buf[4096];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int writable = poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
	shutdown(fd, writable ? SHUT_RD : SHUT_RDWR);
}

/* Detach the session and close it. Its ephemeral nodes go with it. */
static void session_close(zk *z)
{
	zk_session *s = z->s;
	if (!s)
		return;
	z->s = NULL;
	s->z = NULL;
	if (z->lost)
		uv_timer_stop(z->lost);
	int fd = s->poll_fd;
	poll_close(s);
	timer_free(s->timer);
	if (s->zh) {
		if (fd >= 0 && zoo_state(s->zh) == ZOO_CONNECTED_STATE)
			make_close_quick(fd);
		zk_session *prev = enter(s);
		zookeeper_close(s->zh); /* pending completions run now, with ZCLOSING */
		leave(prev);
	}
	free(s);
}

/* --- the operation's end ---------------------------------------------------- */

static void cancel_resolves(zk *z)
{
	for (int i = 0; i < 8; i++) {
		if (z->resolves[i].handle && !z->resolves[i].done)
			devkit__resolve_cancel(z->resolves[i].handle);
		z->resolves[i].handle = NULL;
	}
	z->resolving = 0;
}

/* Report the operation's result to the state machine. Only from the top of
 * a loop callback or from start(): never inside the client. */
static void finish(zk *z, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finish(zk *z, int rc, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	devkit__reg_op op = z->op;
	if (!op)
		return;
	uv_timer_stop(z->deadline);
	cancel_resolves(z);
	z->op = 0;
	z->phase = PHASE_IDLE;
	z->gen++;
	z->done = 0;
	if (op == DEVKIT__REG_OP_DEREGISTER)
		session_close(z); /* whatever a failed delete left goes with the session */
	devkit__reg_op_done(z->r, rc, "%s", message);
}

/* The same, from inside the client: settle() reports it. */
static void finish_later(zk *z, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finish_later(zk *z, int rc, const char *fmt, ...)
{
	if (z->done)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(z->done_msg, sizeof(z->done_msg), fmt, ap);
	va_end(ap);
	z->done = 1;
	z->done_rc = rc;
}

static void note_failure(zk *z, int rc, const char *what, const char *path)
{
	if (z->failed_rc)
		return;
	z->failed_rc = rc;
	snprintf(z->failed_msg, sizeof(z->failed_msg), "ZooKeeper %.200s: %s %.240s: %s",
		z->hosts_text, what, path, zerror(rc));
}

/* --- writing and removing the nodes --------------------------------------- */

static zk_req *req_new(zk *z, int node, int retry)
{
	zk_req *q = calloc(1, sizeof(*q));
	if (q) {
		q->s = z->s;
		q->gen = z->gen;
		q->node = node;
		q->retry = retry;
	}
	return q;
}

/* The operation a completion belongs to, or NULL if it is over. */
static zk *req_owner(const zk_req *q)
{
	zk *z = q->s->z;
	return z && z->s == q->s && z->gen == q->gen ? z : NULL;
}

static void check_written(zk *z)
{
	if (z->pending > 0 || z->phase != PHASE_WRITING)
		return;
	if (z->failed_rc) {
		finish_later(z, map_rc(z->failed_rc), "%s", z->failed_msg);
		return;
	}
	int n = 0;
	for (int i = 0; i < z->nnodes; i++)
		n += z->nodes[i].ephemeral;
	finish_later(z, 0, "%d ephemeral node%s written in session 0x%llx", n, n == 1 ? "" : "s",
		(unsigned long long)zoo_client_id(z->s->zh)->client_id);
}

static void issue_create(zk *z, int i, int retry);

static void on_stale_deleted(int rc, const void *data)
{
	int saved = errno;
	zk_req *q = (zk_req *)data;
	zk *z = req_owner(q);
	if (z && rc != ZOK && rc != ZNONODE)
		devkit__reg_log(z->r, DEVKIT_LOG_DEBUG, "cannot delete the stale %s: %s",
			z->nodes[q->node].path, zerror(rc));
	free(q);
	errno = saved;
}

/* An ephemeral node of ours is there already, from an earlier session that
 * has not expired yet (or anyone's persistent node): delete it and create it
 * again, in this session, so that it goes when this session goes. */
static void replace_node(zk *z, int i)
{
	zk_node *n = &z->nodes[i];
	devkit__reg_log(z->r, DEVKIT_LOG_INFO, "%s exists (an earlier session's): replacing it",
		n->path);
	zk_req *q = req_new(z, i, 1);
	if (!q || zoo_adelete(z->s->zh, n->path, -1, on_stale_deleted, q) != ZOK)
		free(q);
	issue_create(z, i, 1);
}

/* Whose is the node that was there? */
static void on_existing(int rc, const struct Stat *stat, const void *data)
{
	int saved = errno;
	zk_req *q = (zk_req *)data;
	zk *z = req_owner(q);
	if (z) {
		zk_node *n = &z->nodes[q->node];
		z->pending--;
		if (rc == ZOK && stat && stat->ephemeralOwner == zoo_client_id(z->s->zh)->client_id)
			z->registered = 1; /* this session's own (a retry): keep it, no blip */
		else if (rc == ZOK)
			replace_node(z, q->node);
		else if (rc == ZNONODE)
			issue_create(z, q->node, 1); /* gone meanwhile */
		else
			note_failure(z, rc, "check", n->path);
		check_written(z);
	}
	free(q);
	errno = saved;
}

static void check_existing(zk *z, int i)
{
	zk_req *q = req_new(z, i, 1);
	int rc = q ? zoo_aexists(z->s->zh, z->nodes[i].path, 0, on_existing, q) : ZSYSTEMERROR;
	if (rc != ZOK) {
		free(q);
		note_failure(z, rc, "check", z->nodes[i].path);
		return;
	}
	z->pending++;
}

static void on_created(int rc, const char *value, const void *data)
{
	(void)value;
	int saved = errno;
	zk_req *q = (zk_req *)data;
	zk *z = req_owner(q);
	if (z) {
		zk_node *n = &z->nodes[q->node];
		z->pending--;
		if (rc == ZOK && n->ephemeral)
			z->registered = 1;
		if (rc == ZNODEEXISTS && n->ephemeral && !q->retry)
			check_existing(z, q->node);
		else if (rc != ZOK && !(rc == ZNODEEXISTS && !n->ephemeral))
			note_failure(z, rc, "create", n->path);
		check_written(z);
	}
	free(q);
	errno = saved;
}

static void issue_create(zk *z, int i, int retry)
{
	zk_node *n = &z->nodes[i];
	zk_req *q = req_new(z, i, retry);
	int rc = q ? zoo_acreate(z->s->zh, n->path, n->data, n->data ? (int)strlen(n->data) : -1,
		&ZOO_OPEN_ACL_UNSAFE, n->ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT, on_created, q) :
		ZSYSTEMERROR;
	if (rc != ZOK) {
		free(q);
		note_failure(z, rc, "create", n->path);
		return;
	}
	z->pending++;
}

/* Parents first, top down, then ours: one session answers in order, so the
 * whole set goes out at once. */
static void write_nodes(zk *z)
{
	z->phase = PHASE_WRITING;
	z->pending = 0;
	z->failed_rc = 0;
	zk_session *prev = enter(z->s);
	for (int i = 0; i < z->nnodes; i++)
		issue_create(z, i, 0);
	leave(prev);
	session_update(z->s);
	check_written(z);
}

static void check_deleted(zk *z)
{
	if (z->pending > 0 || z->phase != PHASE_DELETING)
		return;
	if (z->failed_rc) {
		finish_later(z, map_rc(z->failed_rc), "%s", z->failed_msg);
		return;
	}
	z->registered = 0;
	finish_later(z, 0, "ephemeral nodes removed");
}

static void on_deleted(int rc, const void *data)
{
	int saved = errno;
	zk_req *q = (zk_req *)data;
	zk *z = req_owner(q);
	if (z) {
		z->pending--;
		if (rc != ZOK && rc != ZNONODE)
			note_failure(z, rc, "delete", z->nodes[q->node].path);
		check_deleted(z);
	}
	free(q);
	errno = saved;
}

static void delete_nodes(zk *z)
{
	z->phase = PHASE_DELETING;
	z->pending = 0;
	z->failed_rc = 0;
	zk_session *prev = enter(z->s);
	for (int i = z->nnodes - 1; i >= 0; i--) {
		zk_node *n = &z->nodes[i];
		if (!n->ephemeral)
			continue; /* parents are shared with other providers */
		zk_req *q = req_new(z, i, 0);
		int rc = q ? zoo_adelete(z->s->zh, n->path, -1, on_deleted, q) : ZSYSTEMERROR;
		if (rc != ZOK) {
			free(q);
			note_failure(z, rc, "delete", n->path);
			continue;
		}
		z->pending++;
	}
	leave(prev);
	session_update(z->s);
	check_deleted(z);
}

/* --- reacting to the session ------------------------------------------------ */

static void on_connected(zk *z, int first)
{
	zk_session *s = z->s;
	devkit__reg *r = z->r;
	uv_timer_stop(z->lost);
	s->timeout_ms = zoo_recv_timeout(s->zh);
	unsigned long long id = (unsigned long long)zoo_client_id(s->zh)->client_id;
	if (first)
		devkit__reg_log(r, DEVKIT_LOG_INFO, "ZooKeeper %s: session 0x%llx, timeout %d ms%s",
			z->hosts_text, id, s->timeout_ms,
			(unsigned int)s->timeout_ms != r->ttl_ms ? " (the server's limits applied)" : "");
	else
		devkit__reg_log(r, DEVKIT_LOG_INFO, "reconnected to ZooKeeper: session 0x%llx is still "
			"valid", id);
	if (z->op == DEVKIT__REG_OP_REGISTER && z->phase == PHASE_CONNECTING)
		write_nodes(z);
	else if (z->op == DEVKIT__REG_OP_DEREGISTER && z->phase == PHASE_CONNECTING)
		delete_nodes(z);
}

static void on_disconnected(zk *z)
{
	zk_session *s = z->s;
	devkit__reg_log(z->r, DEVKIT_LOG_INFO, "connection to ZooKeeper lost; reconnecting (the "
		"session lasts %d ms without one)", s->timeout_ms);
	if (z->registered && s->timeout_ms > 0)
		uv_timer_start(z->lost, on_lost, (uint64_t)s->timeout_ms, 0);
}

/* The session is over for good (expired, or the credentials refused). */
static void on_session_dead(zk *z, int auth)
{
	int was_registered = z->registered;
	z->registered = 0;
	session_close(z);
	if (z->op == DEVKIT__REG_OP_REGISTER)
		finish(z, auth ? DEVKIT_EAUTH : DEVKIT_EIO, "ZooKeeper %s: %s", z->hosts_text,
			auth ? "authentication failed (digest)" : "the session expired while registering");
	else if (z->op == DEVKIT__REG_OP_DEREGISTER)
		finish(z, 0, "the ZooKeeper session expired: its nodes are gone");
	else if (was_registered)
		devkit__reg_lost(z->r, auth ? "ZooKeeper authentication failed" :
			"ZooKeeper session expired");
}

/* A new session that could not reach any server: say why now rather than
 * at the deadline (the state machine retries with backoff). */
static void check_connect_failure(zk *z)
{
	zk_session *s = z->s;
	if (!s || z->op != DEVKIT__REG_OP_REGISTER || z->phase != PHASE_CONNECTING ||
		s->was_connected || s->failures < z->naddrs)
		return;
	int err = s->last_errno;
	session_close(z);
	finish(z, errno_rc(err), "ZooKeeper %s: %s", z->hosts_text, errno_text(err));
}

static void react(zk *z)
{
	zk_session *s = z->s;
	if (!s)
		return;
	int ev = s->events;
	s->events = 0;
	if (ev & (EV_EXPIRED | EV_AUTH_FAILED)) {
		on_session_dead(z, (ev & EV_AUTH_FAILED) != 0);
		return;
	}
	if ((ev & EV_DISCONNECTED) && !s->connected)
		on_disconnected(z);
	if ((ev & (EV_CONNECTED | EV_RECONNECTED)) && s->connected)
		on_connected(z, (ev & EV_CONNECTED) != 0);
	check_connect_failure(z);
}

/* Act on what happened inside the client, then report a finished operation. */
static void settle(zk *z)
{
	react(z);
	if (z->done && z->op) {
		z->done = 0;
		char message[512];
		snprintf(message, sizeof(message), "%s", z->done_msg);
		finish(z, z->done_rc, "%s", message);
	}
}

/* --- timers ------------------------------------------------------------------ */

static void on_deadline(uv_timer_t *t)
{
	zk *z = t->data;
	devkit__reg *r = z->r;
	unsigned int ms = r->timeout_ms;
	switch (z->phase) {
	case PHASE_RESOLVING:
		finish(z, DEVKIT_ETIMEOUT, "ZooKeeper %s: resolving the hosts took longer than %u ms",
			z->hosts_text, ms);
		break;
	case PHASE_CONNECTING:
		if (z->op == DEVKIT__REG_OP_REGISTER) {
			int err = z->s ? z->s->last_errno : 0;
			if (z->s && !z->s->was_connected)
				session_close(z); /* nothing was written in it */
			finish(z, errno_rc(err), "ZooKeeper %s: no session after %u ms (%s)", z->hosts_text,
				ms, errno_text(err));
		} else {
			finish(z, DEVKIT_ETIMEOUT, "ZooKeeper %s: not connected within %u ms; the nodes go "
				"when the session expires", z->hosts_text, ms);
		}
		break;
	case PHASE_WRITING:
		finish(z, DEVKIT_ETIMEOUT, "ZooKeeper %s: no answer to the creates within %u ms",
			z->hosts_text, ms);
		break;
	default:
		finish(z, DEVKIT_ETIMEOUT, "ZooKeeper %s: no answer to the deletes within %u ms; the "
			"nodes go with the session", z->hosts_text, ms);
		break;
	}
}

/* Disconnected for as long as the session lasts: the server has expired it
 * (we would only hear so on reconnecting). Start over with a new one. */
static void on_lost(uv_timer_t *t)
{
	zk *z = t->data;
	if (z->op || !z->registered || !z->s || z->s->connected)
		return;
	int ms = z->s->timeout_ms;
	z->registered = 0;
	session_close(z);
	char why[200];
	snprintf(why, sizeof(why), "ZooKeeper unreachable for %d ms, the session timeout: the "
		"session has expired", ms);
	devkit__reg_lost(z->r, why);
}

/* --- register / deregister ------------------------------------------------------ */

static void append_addr(zk *z, const struct sockaddr_storage *ss, int port)
{
	char ip[INET6_ADDRSTRLEN];
	const void *a = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	if (z->naddrs >= ZK_MAX_ADDRS || !inet_ntop(ss->ss_family, a, ip, sizeof(ip)))
		return;
	/* The client splits at the last ':', so an IPv6 address needs no brackets. */
	if (devkit__bytes_printf(&z->connect, "%s%s:%d", z->naddrs ? "," : "", ip, port) == 0)
		z->naddrs++;
}

static void resolved(zk *z)
{
	if (z->naddrs == 0) {
		finish(z, z->resolve_rc ? z->resolve_rc : DEVKIT_ENOTFOUND, "ZooKeeper %s: %s",
			z->hosts_text, z->resolve_error[0] ? z->resolve_error : "no address");
		return;
	}
	char *connect = strndup(devkit__bytes_head(&z->connect), devkit__bytes_avail(&z->connect));
	int rc = connect ? session_open(z, connect) : DEVKIT_ENOMEM;
	if (rc < 0) {
		finish(z, rc, "ZooKeeper %s: cannot start a client for %s", z->hosts_text,
			connect ? connect : "(out of memory)");
		free(connect);
		return;
	}
	devkit__reg_log(z->r, DEVKIT_LOG_DEBUG, "connecting to ZooKeeper at %s", connect);
	free(connect);
	z->phase = PHASE_CONNECTING;
}

static void on_resolved(void *data, int status, const char *message,
	const struct sockaddr_storage *addrs, int count)
{
	zk_resolve *slot = data;
	zk *z = slot->z;
	slot->done = 1;
	slot->handle = NULL;
	z->resolving--;
	if (status < 0 && !z->resolve_rc) {
		z->resolve_rc = status;
		snprintf(z->resolve_error, sizeof(z->resolve_error), "%s", message ? message : "");
	}
	for (int i = 0; status == 0 && i < count; i++)
		append_addr(z, &addrs[i], z->r->hosts[slot->index].port);
	if (z->resolving == 0 && z->phase == PHASE_RESOLVING)
		resolved(z);
	settle(z);
}

static void start_resolve(zk *z)
{
	devkit__reg *r = z->r;
	z->phase = PHASE_RESOLVING;
	devkit__bytes_reset(&z->connect);
	z->naddrs = 0;
	z->resolve_rc = 0;
	z->resolve_error[0] = '\0';
	z->resolving = 0;
	for (int i = 0; i < r->nhosts && i < 8; i++) {
		zk_resolve *slot = &z->resolves[i];
		slot->z = z;
		slot->index = i;
		slot->done = 0;
		slot->handle = NULL;
		z->resolving++;
		devkit__resolve *h = NULL;
		int rc = devkit__resolve_start(r->ctx, r->hosts[i].host, r->hosts[i].port, on_resolved,
			slot, &h);
		if (rc < 0) {
			z->resolving--;
			slot->done = 1;
			if (!z->resolve_rc) {
				const devkit_error *e = devkit_error_last();
				z->resolve_rc = rc;
				snprintf(z->resolve_error, sizeof(z->resolve_error), "%s",
					e && e->message ? e->message : "cannot resolve");
			}
			continue;
		}
		/* A name the resolver knows at once may have answered already. */
		if (!slot->done)
			slot->handle = h;
	}
	if (z->resolving == 0 && z->phase == PHASE_RESOLVING)
		resolved(z);
}

static void start_register(zk *z)
{
	if (z->s && zoo_state(z->s->zh) < 0)
		session_close(z); /* expired or refused: a new session is needed */
	uv_timer_start(z->deadline, on_deadline, z->r->timeout_ms, 0);
	if (!z->s) {
		start_resolve(z);
		return;
	}
	/* The session survives failed attempts: write in it once connected. */
	if (z->s->connected)
		write_nodes(z);
	else
		z->phase = PHASE_CONNECTING;
}

static void start_deregister(zk *z)
{
	if (!z->s || !z->s->was_connected) {
		session_close(z);
		finish_later(z, 0, "nothing was written to ZooKeeper");
		return;
	}
	uv_timer_start(z->deadline, on_deadline, z->r->timeout_ms, 0);
	if (z->s->connected)
		delete_nodes(z);
	else
		z->phase = PHASE_CONNECTING;
}

static void zk_start(devkit__reg *r, devkit__reg_op op)
{
	zk *z = zk_of(r);
	/* Made here, not in init: when init fails, destroy runs on the caller's
	 * thread, where loop handles must not be touched. */
	if (!z->deadline)
		z->deadline = timer_new(&r->ctx->loop, z);
	if (!z->lost)
		z->lost = timer_new(&r->ctx->loop, z);
	if (!z->deadline || !z->lost) {
		devkit__reg_op_done(r, DEVKIT_ENOMEM, "out of memory");
		return;
	}
	z->op = op;
	z->gen++;
	z->done = 0;
	z->failed_rc = 0;
	if (op == DEVKIT__REG_OP_REGISTER)
		start_register(z);
	else if (op == DEVKIT__REG_OP_DEREGISTER)
		start_deregister(z);
	else
		finish_later(z, 0, "the ZooKeeper session keeps the nodes alive by itself");
	settle(z);
}

static void zk_cancel(devkit__reg *r)
{
	zk *z = zk_of(r);
	if (!z)
		return;
	z->gen++; /* completions of the abandoned requests are ignored */
	z->op = 0;
	z->phase = PHASE_IDLE;
	z->done = 0;
	if (z->deadline)
		uv_timer_stop(z->deadline);
	cancel_resolves(z);
}

/* --- what to write ------------------------------------------------------------------ */

/* Java's URLEncoder.encode(s, "UTF-8"), which Dubbo's URL.encode is. */
static char *java_url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '-' || c == '*' || c == '_') {
			*o++ = (char)c;
		} else if (c == ' ') {
			*o++ = '+';
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* A path for ZooKeeper: "" or "/a/b", no empty, "." or ".." parts, no
 * control characters. */
static int valid_path(const char *p)
{
	if (!*p)
		return 1;
	if (*p != '/')
		return 0;
	while (*p == '/') {
		const char *part = p + 1;
		size_t len = strcspn(part, "/");
		if (len == 0 || (len == 1 && part[0] == '.') ||
			(len == 2 && part[0] == '.' && part[1] == '.'))
			return 0;
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)part[i] < 0x20 || part[i] == 0x7f)
				return 0;
		p = part + len;
	}
	return *p == '\0';
}

static int add_node(zk *z, const char *path, const char *data, int ephemeral)
{
	for (int i = 0; i < z->nnodes; i++)
		if (strcmp(z->nodes[i].path, path) == 0)
			return 0;
	if (z->nnodes >= ZK_MAX_NODES)
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper: path %s is too deep", path);
	zk_node *n = &z->nodes[z->nnodes];
	n->path = strdup(path);
	n->data = data ? strdup(data) : NULL;
	n->ephemeral = ephemeral;
	if (!n->path || (data && !n->data)) {
		free(n->path);
		free(n->data);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	z->nnodes++;
	return 0;
}

/* Every ancestor of path, as persistent nodes, top down. */
static int add_parents(zk *z, const char *path)
{
	char buf[1024];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper: path too long: %.80s...", path);
	for (size_t i = 1; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		memcpy(buf, path, i);
		buf[i] = '\0';
		int rc = add_node(z, buf, NULL, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

typedef struct zk_param {
	const char *key;
	char *value;
} zk_param;

static int set_param(zk_param *p, int *n, const char *key, const char *value)
{
	char *v = strdup(value);
	if (!v)
		return DEVKIT_ENOMEM;
	for (int i = 0; i < *n; i++) {
		if (strcmp(p[i].key, key) == 0) {
			free(p[i].value);
			p[i].value = v;
			return 0;
		}
	}
	if (*n >= ZK_MAX_PARAMS) {
		free(v);
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper: more than %d URL parameters",
			ZK_MAX_PARAMS);
	}
	p[*n].key = key;
	p[*n].value = v;
	(*n)++;
	return 0;
}

static int param_cmp(const void *a, const void *b)
{
	return strcmp(((const zk_param *)a)->key, ((const zk_param *)b)->key);
}

/* The provider URL's parameters: what a Dubbo provider writes, then the
 * user's metadata (which may override those), then the tag. */
static int provider_params(zk *z, zk_param *p, int *n)
{
	devkit__reg *r = z->r;
	char pid[16], ts[24];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(ts, sizeof(ts), "%lld", z->timestamp);
	const char *defaults[][2] = {
		{ "anyhost", "false" }, { "application", r->service }, { "deprecated", "false" },
		{ "dubbo", DUBBO_PROTOCOL_VERSION }, { "dynamic", "true" }, { "generic", "false" },
		{ "interface", r->interface_name }, { "pid", pid }, { "release", DUBBO_RELEASE },
		{ "side", "provider" }, { "timestamp", ts },
	};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(defaults) / sizeof(defaults[0]); i++)
		rc = set_param(p, n, defaults[i][0], defaults[i][1]);
	if (rc == 0 && r->methods && r->methods[0])
		rc = set_param(p, n, "methods", r->methods);
	for (int i = 0; rc == 0 && i < r->nmeta; i++) {
		const char *k = r->meta[i].key;
		if (strpbrk(k, "&=?#/ ") || !k[0])
			return devkit__error_set(DEVKIT_EINVAL, "zookeeper: metadata key \"%s\" cannot be "
				"a Dubbo URL parameter", k);
		rc = set_param(p, n, k, r->meta[i].value);
	}
	if (rc == 0 && r->tag)
		rc = set_param(p, n, "dubbo.tag", r->tag);
	if (rc == 0)
		qsort(p, (size_t)*n, sizeof(*p), param_cmp); /* Dubbo's TreeMap order */
	return rc;
}

/* "<protocol>://<host>:<port>/<interface>?k=v&..." as URL.toFullString(). */
static int provider_url(zk *z, char **out)
{
	devkit__reg *r = z->r;
	zk_param p[ZK_MAX_PARAMS];
	int n = 0;
	*out = NULL;
	int rc = provider_params(z, p, &n);
	devkit__bytes b = DEVKIT__BYTES_INIT;
	int v6 = strchr(r->address, ':') != NULL;
	if (rc == 0)
		rc = devkit__bytes_printf(&b, "%s://%s%s%s:%d/%s", r->protocol, v6 ? "[" : "",
			r->address, v6 ? "]" : "", r->port, r->interface_name);
	for (int i = 0; rc == 0 && i < n; i++) {
		rc = devkit__bytes_printf(&b, "%c%s=", i ? '&' : '?', p[i].key);
		/* Dubbo splits the query at '&' and does not decode values. */
		for (const char *c = p[i].value; rc == 0 && *c; c++)
			rc = *c == '&' ? devkit__bytes_printf(&b, "%%26") : devkit__bytes_append(&b, c, 1);
	}
	for (int i = 0; i < n; i++)
		free(p[i].value);
	if (rc == 0) {
		*out = strndup(devkit__bytes_head(&b), devkit__bytes_avail(&b));
		if (!*out)
			rc = DEVKIT_ENOMEM;
	}
	devkit__bytes_free(&b);
	if (rc == DEVKIT_ENOMEM || (rc < 0 && rc != DEVKIT_EINVAL))
		rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	return rc;
}

/* The data of a Curator ServiceInstance<ZookeeperInstance>, as Dubbo 3's
 * ZookeeperServiceDiscovery writes it (Jackson: the payload carries its
 * class). */
static char *instance_json(zk *z)
{
	devkit__reg *r = z->r;
	json_t *meta = json_object();
	for (int i = 0; i < r->nmeta; i++)
		json_object_set_new(meta, r->meta[i].key, json_string(r->meta[i].value));
	if (r->tag)
		json_object_set_new(meta, "dubbo.tag", json_string(r->tag));
	char endpoints[128];
	snprintf(endpoints, sizeof(endpoints), "[{\"port\":%d,\"protocol\":\"%s\"}]", r->port,
		r->protocol);
	json_object_set_new(meta, "dubbo.endpoints", json_string(endpoints));
	json_t *payload = json_pack("{s:s, s:n, s:s, s:o}", "@class", ZK_INSTANCE_CLASS, "id",
		"name", r->service, "metadata", meta);
	json_t *inst = payload ? json_pack("{s:s, s:s, s:s, s:i, s:n, s:o, s:I, s:s, s:n, s:b}",
		"name", r->service, "id", r->instance_id, "address", r->address, "port", r->port,
		"sslPort", "payload", payload, "registrationTimeUTC", (json_int_t)z->timestamp,
		"serviceType", "DYNAMIC", "uriSpec", "enabled", 1) : NULL;
	char *text = inst ? json_dumps(inst, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(inst);
	if (!text)
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	return text;
}

static int build_interface_nodes(zk *z, const char *root)
{
	char *url = NULL;
	int rc = provider_url(z, &url);
	if (rc < 0)
		return rc;
	char *iface = java_url_encode(z->r->interface_name);
	char *name = java_url_encode(url);
	size_t len = strlen(root) + (iface ? strlen(iface) : 0) + (name ? strlen(name) : 0) + 32;
	char *path = iface && name ? malloc(len) : NULL;
	if (!path) {
		rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	} else {
		snprintf(path, len, "%s/%s/providers", root, iface);
		rc = add_parents(z, path);
		if (rc == 0) {
			snprintf(path, len, "%s/%s/providers/%s", root, iface, name);
			rc = add_node(z, path, NULL, 1);
		}
	}
	free(path);
	free(iface);
	free(name);
	free(url);
	return rc;
}

static int build_application_nodes(zk *z)
{
	devkit__reg *r = z->r;
	if (strchr(r->service, '/'))
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper: service \"%s\" has a '/', which an "
			"application-level node name cannot", r->service);
	char path[1024];
	snprintf(path, sizeof(path), "%s/services/%s", r->path, r->service);
	int rc = add_parents(z, path);
	if (rc < 0)
		return rc;
	char *data = instance_json(z);
	if (!data)
		return DEVKIT_ENOMEM;
	snprintf(path, sizeof(path), "%s/services/%s/%s", r->path, r->service, r->instance_id);
	rc = valid_path(path) ? add_node(z, path, data, 1) :
		devkit__error_set(DEVKIT_EINVAL, "zookeeper: %s is not a valid path", path);
	free(data);
	return rc;
}

static int build_nodes(zk *z)
{
	devkit__reg *r = z->r;
	int iface = strcmp(z->layout, "application") != 0;
	int app = strcmp(z->layout, "interface") != 0;
	const char *group = devkit__reg_query(r, "group", "dubbo");
	while (*group == '/')
		group++;
	char root[600];
	snprintf(root, sizeof(root), "%s%s%s", r->path, *group ? "/" : "", group);
	if (!valid_path(root))
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper: group \"%s\" does not make a valid "
			"path", group);
	int rc = 0;
	if (iface)
		rc = build_interface_nodes(z, root);
	if (rc == 0 && app)
		rc = build_application_nodes(z);
	return rc;
}

static void hosts_text(zk *z)
{
	devkit__reg *r = z->r;
	size_t off = 0;
	for (int i = 0; i < r->nhosts && off < sizeof(z->hosts_text); i++) {
		int v6 = strchr(r->hosts[i].host, ':') != NULL;
		off += (size_t)snprintf(z->hosts_text + off, sizeof(z->hosts_text) - off, "%s%s%s%s:%d",
			i ? "," : "", v6 ? "[" : "", r->hosts[i].host, v6 ? "]" : "", r->hosts[i].port);
	}
}

static int zk_init(devkit__reg *r)
{
	zk *z = calloc(1, sizeof(*z));
	if (!z)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	r->backend_data = z;
	z->r = r;
	hosts_text(z);
	const char *layout = devkit__reg_query(r, "layout", "both");
	if (strcmp(layout, "interface") != 0 && strcmp(layout, "application") != 0 &&
		strcmp(layout, "both") != 0)
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper: layout=%s is not interface, "
			"application or both", layout);
	snprintf(z->layout, sizeof(z->layout), "%s", layout);
	if (!valid_path(r->path))
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper: the URL's path \"%s\" is not a "
			"valid chroot", r->path);
	if (r->ttl_ms > INT32_MAX)
		return devkit__error_set(DEVKIT_EINVAL, "zookeeper: ttl_ms %u is too large", r->ttl_ms);
	/* Curator's instance id, and the application-level node's name. */
	snprintf(r->instance_id, sizeof(r->instance_id), "%s:%d", r->address, r->port);
	z->timestamp = wall_ms();
	return build_nodes(z);
}

static void zk_describe(devkit__reg *r, void *json)
{
	zk *z = zk_of(r);
	json_t *keys = json_array();
	for (int i = 0; i < z->nnodes; i++)
		if (z->nodes[i].ephemeral)
			json_array_append_new(keys, json_string(z->nodes[i].path));
	json_object_set_new(json, "keys", keys);
	json_object_set_new(json, "layout", json_string(z->layout));
	if (z->s && z->s->was_connected) {
		char id[32];
		snprintf(id, sizeof(id), "0x%llx",
			(unsigned long long)zoo_client_id(z->s->zh)->client_id);
		json_object_set_new(json, "session", json_string(id));
		json_object_set_new(json, "connected", json_boolean(z->s->connected));
		json_object_set_new(json, "session_timeout_ms", json_integer(z->s->timeout_ms));
	}
}

static void zk_destroy(devkit__reg *r)
{
	zk *z = zk_of(r);
	if (!z)
		return;
	zk_cancel(r);
	session_close(z);
	timer_free(z->deadline);
	timer_free(z->lost);
	for (int i = 0; i < z->nnodes; i++) {
		free(z->nodes[i].path);
		free(z->nodes[i].data);
	}
	devkit__bytes_free(&z->connect);
	free(z);
	r->backend_data = NULL;
}

const devkit__reg_backend devkit__reg_zookeeper = {
	.name = "zookeeper",
	.default_port = 2181,
	.default_ttl_ms = 30000,      /* the session timeout Dubbo's Curator client asks for */
	.default_heartbeat_ms = 0,
	.init = zk_init,
	.start = zk_start,
	.has_heartbeat = 0,           /* the client's pings keep the session */
	.cancel = zk_cancel,
	.describe = zk_describe,
	.destroy = zk_destroy,
};
