/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private structures of the tunnel area. Everything here lives on the I/O
 * thread; see docs/architecture.md for the life of a session and a link.
 *
 *  devkit_tunnel   the user's handle: options, state, forwards; outlives sessions
 *  devkit__session one SSH connection to the bastion (one per (re)connect)
 *  devkit_forward  a listener: local (-L), dynamic (-D) or remote (-R)
 *  devkit__link    one forwarded connection: a local TCP socket <-> an SSH channel
 */
#ifndef DEVKIT_TUNNEL_INT_H
#define DEVKIT_TUNNEL_INT_H

#include <libssh2.h>
#include <uv.h>

#include "devkit/tunnel.h"
#include "core/bytes.h"
#include "core/engine.h"
#include "core/list.h"
#include "core/resolve.h"
#include "proxy_proto.h"

typedef struct devkit__session devkit__session;
typedef struct devkit__link devkit__link;
typedef struct devkit__open_req devkit__open_req;

/* A request for a direct-tcpip channel. It waits in tunnel->waiting while no
 * session is up, then in session->open_queue, whose head is in flight (a
 * libssh2 session opens one channel at a time). `done` is called exactly once,
 * after the request has left every list: with the channel, or with NULL, a
 * devkit_error_code and a reason. */
typedef void (*devkit__open_cb)(devkit__open_req *req, LIBSSH2_CHANNEL *ch, int code, const char *why);
struct devkit__open_req {
	devkit__list node;
	devkit__session *session; /* while in session->open_queue */
	const char *host;         /* borrowed from the owner */
	int port;
	uint64_t deadline;        /* while waiting: give up at this time (ms, loop clock) */
	devkit__open_cb done;
};

/* Per-connection buffers are bounded: a link never holds more than this many
 * bytes waiting in either direction, so a slow reader stops the other side
 * (through the SSH window or by not reading the local socket). */
#define DEVKIT__LINK_CHUNK (256 * 1024)
/* Above this much unsent SSH output, local sockets stop being read. */
#define DEVKIT__SESSION_OUT_HIGH (4 * 1024 * 1024)
#define DEVKIT__LOCAL_READ (64 * 1024)

struct devkit_tunnel {
	devkit__closeable closeable;
	devkit_ctx *ctx;
	uint64_t id;

	/* options, with owned copies of every string */
	devkit_tunnel_options opts;
	char *host;
	int port;
	char *user;
	char *known_hosts_text; /* known_hosts as read by devkit_tunnel_open (NULL: none) */

	int state;              /* devkit_tunnel_state; written on the loop, read anywhere (atomics) */
	devkit__session *session; /* the current connection, NULL between attempts */
	devkit__call *open_call;  /* devkit_tunnel_open waiting for the first UP */
	devkit__call *free_call;  /* devkit_tunnel_free waiting for the handles to close */
	int closing;
	int handles;              /* uv handles of this tunnel not yet closed */

	uv_timer_t reconnect_timer;
	uv_timer_t tick;          /* once a second: waiting links' deadlines */
	int attempt;
	uint64_t sessions_up;

	devkit__list forwards;    /* devkit_forward.node */
	devkit__list waiting;     /* channel requests waiting for a session (devkit__open_req.node) */

	/* what devkit_tunnel_describe reports */
	char fingerprint[80];
	char cipher[64];
	char mac[64];
	char kex[64];

	devkit_tunnel_stats stats; /* channels_* and bytes_* summed over forwards */

	/* Scratch buffers of the I/O thread: data is handed on before the callback
	 * returns, and only what cannot be handed on is copied into a link. */
	char *local_buf;          /* DEVKIT__LOCAL_READ bytes, for reads of local sockets */
	char *channel_buf;        /* DEVKIT__LINK_CHUNK bytes, for reads of channels */
};

struct devkit_forward {
	devkit__list node;        /* in tunnel->forwards */
	devkit_tunnel *tunnel;
	uint64_t id;
	devkit_forward_kind kind;
	char *bind_address;
	int bind_port;            /* as asked */
	int bound_port;           /* as bound (0 until known) */
	char address[128];
	char *target_host;
	int target_port;
	char *proxy_username;
	char *proxy_password;

	uv_tcp_t listener;        /* LOCAL, DYNAMIC */
	int listening;
	LIBSSH2_LISTENER *ssh_listener; /* REMOTE: valid for the current session only */
	int remote_requested;     /* REMOTE: in the session's listen queue or listening */
	devkit__list listen_node; /* REMOTE: in session->listen_queue */
	devkit__call *add_call;   /* REMOTE: devkit_tunnel_add_forward waiting for the port */

	devkit__list links;       /* devkit__link.fwd_node */
	/* Redirect forwards (for routed processes): each accepted connection's
	 * destination comes from this lookup, by the client's source port. */
	struct devkit__redirect *redirect;
	int closing;
	int handles;
	devkit__call *free_call;
	devkit_forward_stats stats;
};

typedef enum devkit__link_state {
	LINK_HANDSHAKE = 1, /* DYNAMIC: reading the SOCKS/HTTP request */
	LINK_OPENING,       /* its channel request is waiting or in flight */
	LINK_CONNECTING,    /* REMOTE: connecting the local target */
	LINK_OPEN,          /* moving bytes */
	LINK_CLOSING        /* local socket and channel being released */
} devkit__link_state;

struct devkit__link {
	devkit__list node;     /* session->links, once it has a channel */
	devkit__list fwd_node; /* in forward->links */
	devkit_forward *fwd;
	devkit__session *session;
	devkit__link_state state;
	uv_tcp_t tcp;
	int tcp_open;          /* tcp handle initialised and not yet closed */
	LIBSSH2_CHANNEL *ch;
	devkit__proxy *proxy;  /* DYNAMIC, during the handshake only */
	char *target_host;     /* LOCAL and DYNAMIC: where the channel goes */
	int target_port;
	devkit__open_req open; /* LINK_OPENING */
	int open_pending;      /* `open` submitted and its callback not yet run */

	devkit__bytes to_remote; /* local bytes not yet taken by the channel */
	devkit__bytes to_local;  /* channel bytes being written to the local socket */
	devkit__bytes to_local_next; /* bytes that arrived while that write was in flight */
	uv_write_t write_req;
	int writing;             /* write_req in flight */
	uv_shutdown_t shutdown_req;
	uv_connect_t connect_req;
	devkit__resolve *resolve;
	int reading_local;       /* uv_read_start active */
	int local_eof;           /* the local side sent FIN */
	int eof_sent;            /* ... and we passed it on with channel_send_eof */
	int remote_eof;          /* the channel reached EOF */
	int local_shut;          /* ... and we passed it on with uv_shutdown */
	int failed;
	int reset;               /* close with RST */
};

typedef enum devkit__session_stage {
	STAGE_RESOLVING = 1,
	STAGE_CONNECTING,
	STAGE_HANDSHAKE,
	STAGE_AUTH,
	STAGE_UP,
	STAGE_DEAD
} devkit__session_stage;

struct devkit__session {
	devkit_tunnel *t;
	devkit__session_stage stage;
	int fd;
	uv_poll_t *poll;        /* handles are heap-allocated: each closes on its own */
	int poll_events;
	uv_timer_t *timer;      /* connect timeout, then keepalive ticks */
	uv_idle_t *idle;        /* runs the pump again on the next loop turn */
	uint64_t deadline_ms;   /* connect timeout */
	devkit__resolve *resolve;
	struct sockaddr_storage addrs[8];
	int naddrs, addr_index;
	char peer[80];          /* "host:port" for messages */
	char connect_error[256];

	LIBSSH2_SESSION *ssh;
	devkit__bytes out;      /* SSH output not yet accepted by the socket */
	int sock_closed;        /* the socket failed or reached EOF */
	int rx_drained;         /* recv() said EAGAIN and no readable event came since */
	int rx_unread;          /* readable event, and no recv() call since */
	uint64_t rx_bytes;      /* total read from the socket */
	uint64_t last_rx_ms;
	uint64_t last_probe_ms;
	int probe_wanted;       /* keepalive due: open a channel type nobody has */
	int probe_in_flight;

	/* authentication */
	char *auth_methods;     /* as offered by the server */
	int auth_step;
	char auth_tried[512];
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *agent_identity;

	devkit__list links;        /* LINK_OPEN and LINK_CONNECTING links */
	devkit__list open_queue;   /* devkit__open_req; the head is in flight */
	devkit__list closing;      /* channels being freed (devkit__closing_channel) */
	devkit__list listen_queue; /* REMOTE forwards to request; the head is in progress */
	int in_pump;
	int pump_again;
	int handles;
};

/* tunnel.c */
void devkit__tunnel_session_up(devkit_tunnel *t);
void devkit__tunnel_session_failed(devkit_tunnel *t, int code, const char *message);
void devkit__tunnel_handle_closed(devkit_tunnel *t);
void devkit__tunnel_emit(devkit_tunnel *t, devkit_event_type type, uint64_t forward_id,
	int error, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* open.c */
void devkit__open_submit(devkit_tunnel *t, devkit__open_req *req);
/* Withdraw a request: 0 if `done` will not run, 1 if the open is in flight
 * and `done` will still come (libssh2 must see it through). */
int devkit__open_withdraw(devkit__open_req *req);
/* Fail every request of a list (tunnel->waiting, session->open_queue). */
void devkit__open_fail_all(devkit__list *list, int code, const char *why);
void devkit__open_expire(devkit_tunnel *t, uint64_t now);
void devkit__open_step(devkit__session *s); /* run the session's open queue */

/* session.c */
int devkit__session_start(devkit_tunnel *t);
void devkit__session_pump(devkit__session *s);
/* Close the connection now; links on it are failed. No callback into the tunnel. */
void devkit__session_destroy(devkit__session *s);
void devkit__session_flush(devkit__session *s);
int devkit__session_out_full(const devkit__session *s);
void devkit__session_close_channel(devkit__session *s, LIBSSH2_CHANNEL *ch);
int devkit__ssh_error(devkit__session *s, const char *what, char *buf, size_t len);

/* hostkey.c: verify the server's key; 0, or DEVKIT_EHOSTKEY/EIO with a message */
int devkit__hostkey_verify(devkit__session *s, char *msg, size_t msglen);

/* auth.c: 1 done, 0 again later (EAGAIN), <0 failed with msg */
int devkit__auth_step(devkit__session *s, char *msg, size_t msglen);
void devkit__auth_free(devkit__session *s);

/* link.c */
devkit__link *devkit__link_new(devkit_forward *fwd);
void devkit__link_start_local(devkit__link *l); /* accepted: begin reading */
void devkit__link_enqueue_open(devkit__link *l);  /* ask the tunnel for a channel */
void devkit__link_channel_opened(devkit__link *l, LIBSSH2_CHANNEL *ch);
void devkit__link_open_failed(devkit__link *l, int code, const char *why);
void devkit__link_attach_remote(devkit__link *l, devkit__session *s, LIBSSH2_CHANNEL *ch);
int devkit__link_pump_remote(devkit__link *l); /* channel -> local; returns bytes moved */
int devkit__link_pump_local(devkit__link *l);  /* buffered local -> channel */
void devkit__link_close(devkit__link *l, int failed);
void devkit__link_session_lost(devkit__link *l);
/* Write to the local socket, queueing what it cannot take; -1 if the link died. */
int devkit__link_write_local(devkit__link *l, const char *data, size_t n);
void devkit__link_reset(devkit__link *l);
/* Best-effort write of a short error reply, then close as failed. */
void devkit__link_reply_and_close(devkit__link *l, devkit__bytes *reply);

/* forward.c */
void devkit__forward_session_up(devkit_forward *f, devkit__session *s);
void devkit__forward_session_lost(devkit_forward *f);
int devkit__forward_request_step(devkit__session *s); /* REMOTE listen queue */
void devkit__forward_accept_remote(devkit__session *s);
void devkit__forward_handle_closed(devkit_forward *f);
void devkit__forward_shutdown(devkit_forward *f);
int devkit__forward_start_listener(devkit_forward *f, char *msg, size_t msglen);
void devkit__forward_free_memory(devkit_forward *f);
void devkit__forward_abandon(devkit_forward *f);
/* The session that held its tcpip-forward request is gone. */
void devkit__forward_listen_dropped(devkit_forward *f);

/* redirect.c: a local listener whose connections go where the lookup says.
 * `ch` non-NULL: a channel opened beforehand on the session of generation
 * `session_gen` (tunnel->sessions_up when it opened), used if still valid. */
typedef struct devkit__redirect_target {
	char host[64];
	int port;
	LIBSSH2_CHANNEL *ch;
	uint64_t session_gen;
} devkit__redirect_target;
typedef int (*devkit__redirect_fn)(void *data, int family, int src_port, devkit__redirect_target *out);
typedef struct devkit__redirect {
	devkit__redirect_fn lookup;
	void *data;
} devkit__redirect;
/* On the I/O thread. Returns 0, or an error with `msg`. */
int devkit__redirect_start(devkit_tunnel *t, const char *bind_address, int port, devkit__redirect *r,
	devkit_forward **out, char *msg, size_t msglen);
void devkit__redirect_accept(devkit_forward *f, devkit__link *l);
/* Free a channel opened for a redirect that will not come. */
void devkit__redirect_drop_channel(devkit_tunnel *t, LIBSSH2_CHANNEL *ch, uint64_t session_gen);

/* dynamic.c */
void devkit__dynamic_on_read(devkit__link *l, const char *data, size_t n);

/* Milliseconds on the loop clock. */
static inline uint64_t devkit__now_ms(devkit_tunnel *t) { return uv_now(&t->ctx->loop); }

#endif
