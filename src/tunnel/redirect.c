/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redirect forwards, for routed processes. The LD_PRELOAD shim binds the
 * application's socket to a loopback port, tells the router where the socket
 * really wanted to go, and connects it here instead. Each accepted connection
 * is looked up by its source port; its channel may already be open (a
 * blocking connect waited for it), else it is opened now. A connection nobody
 * announced is reset: it is not ours to carry.
 */
#include "tunnel_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int devkit__redirect_start(devkit_tunnel *t, const char *bind_address, int port, devkit__redirect *r,
	devkit_forward **out, char *msg, size_t msglen)
{
	devkit_forward *f = calloc(1, sizeof(*f));
	if (!f)
		return DEVKIT_ENOMEM;
	f->tunnel = t;
	f->kind = DEVKIT_FORWARD_LOCAL; /* a local listener; the redirect decides the target */
	f->redirect = r;
	f->bind_port = port;
	f->bind_address = strdup(bind_address);
	f->target_host = strdup("(redirect)");
	f->stats.version = DEVKIT_FORWARD_STATS_VERSION;
	snprintf(f->address, sizeof(f->address), "%s", bind_address);
	devkit__list_init(&f->links);
	devkit__list_init(&f->node);
	devkit__list_init(&f->listen_node);
	if (!f->bind_address || !f->target_host) {
		devkit__forward_free_memory(f);
		return DEVKIT_ENOMEM;
	}
	f->id = devkit__ctx_next_id(t->ctx);
	int rc = devkit__forward_start_listener(f, msg, msglen);
	if (rc < 0) {
		devkit__forward_abandon(f);
		return rc;
	}
	devkit__list_push(&t->forwards, &f->node);
	*out = f;
	return 0;
}

static int channel_still_valid(devkit_tunnel *t, uint64_t session_gen)
{
	return t->session && t->session->stage == STAGE_UP && t->sessions_up == session_gen;
}

void devkit__redirect_drop_channel(devkit_tunnel *t, LIBSSH2_CHANNEL *ch, uint64_t session_gen)
{
	/* A channel of an earlier session was freed with it. */
	if (ch && channel_still_valid(t, session_gen))
		devkit__session_close_channel(t->session, ch);
}

static void refuse(devkit__link *l, const char *why)
{
	devkit__log(l->fwd->tunnel->ctx, DEVKIT_LOG_INFO, "redirect: %s", why);
	devkit__link_reset(l);
}

void devkit__redirect_accept(devkit_forward *f, devkit__link *l)
{
	devkit_tunnel *t = f->tunnel;
	struct sockaddr_storage peer;
	int len = sizeof(peer);
	if (uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&peer, &len) != 0) {
		refuse(l, "cannot read the peer address");
		return;
	}
	int port = ntohs(peer.ss_family == AF_INET ? ((struct sockaddr_in *)&peer)->sin_port
		: ((struct sockaddr_in6 *)&peer)->sin6_port);
	devkit__redirect_target target;
	memset(&target, 0, sizeof(target));
	if (f->redirect->lookup(f->redirect->data, peer.ss_family, port, &target) != 0) {
		refuse(l, "a connection from a port no routed process announced");
		return;
	}
	if (target.ch) {
		if (!channel_still_valid(t, target.session_gen)) {
			refuse(l, "its channel was lost with the bastion connection");
			return;
		}
		l->session = t->session;
		devkit__link_channel_opened(l, target.ch);
		return;
	}
	l->target_host = strdup(target.host);
	l->target_port = target.port;
	if (!l->target_host) {
		devkit__link_close(l, 1);
		return;
	}
	devkit__link_enqueue_open(l);
	devkit__link_start_local(l);
}
