/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Channel requests (direct-tcpip). libssh2 keeps the state of a channel open
 * in the session, so a session opens one channel at a time: requests queue,
 * the head is in flight and must be seen through even if its owner has gone
 * (the owner then frees the channel in its callback). Requests made while no
 * session is up wait, up to the connect timeout, and move to the next session.
 */
#include "tunnel_int.h"

#include <stdio.h>
#include <string.h>

/* req->session stays set for the callback: a channel belongs to that session. */
static void finish(devkit__open_req *req, LIBSSH2_CHANNEL *ch, int code, const char *why)
{
	devkit__list_remove(&req->node);
	req->done(req, ch, code, why);
}

void devkit__open_submit(devkit_tunnel *t, devkit__open_req *req)
{
	devkit__session *s = t->session;
	devkit__list_init(&req->node);
	if (s && s->stage == STAGE_UP) {
		req->session = s;
		devkit__list_push(&s->open_queue, &req->node);
		devkit__session_pump(s);
		return;
	}
	if (t->state == DEVKIT_TUNNEL_DOWN || t->closing) {
		req->done(req, NULL, DEVKIT_ECONNREFUSED, "the tunnel is down");
		return;
	}
	req->session = NULL;
	req->deadline = devkit__now_ms(t) + (uint64_t)t->opts.connect_timeout_ms;
	devkit__list_push(&t->waiting, &req->node);
}

int devkit__open_withdraw(devkit__open_req *req)
{
	if (req->session && req->session->open_queue.next == &req->node)
		return 1;
	devkit__list_remove(&req->node);
	req->session = NULL;
	return 0;
}

void devkit__open_fail_all(devkit__list *list, int code, const char *why)
{
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, list)
		finish(devkit__container_of(pos, devkit__open_req, node), NULL, code, why);
}

void devkit__open_expire(devkit_tunnel *t, uint64_t now)
{
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &t->waiting) {
		devkit__open_req *req = devkit__container_of(pos, devkit__open_req, node);
		if (now >= req->deadline)
			finish(req, NULL, DEVKIT_ETIMEOUT, "the bastion is not connected");
	}
}

void devkit__open_step(devkit__session *s)
{
	while (!devkit__list_empty(&s->open_queue) && s->stage == STAGE_UP) {
		devkit__open_req *req = devkit__container_of(s->open_queue.next, devkit__open_req, node);
		LIBSSH2_CHANNEL *ch = libssh2_channel_direct_tcpip_ex(s->ssh, req->host, req->port,
			"127.0.0.1", 0);
		if (ch) {
			finish(req, ch, 0, NULL);
			continue;
		}
		char *m = NULL;
		int err = libssh2_session_last_error(s->ssh, &m, NULL, 0);
		if (err == LIBSSH2_ERROR_EAGAIN)
			return;
		int code = DEVKIT_ECONNREFUSED;
		if (m && strstr(m, "prohibited"))
			code = DEVKIT_EFORBIDDEN;
		else if (err != LIBSSH2_ERROR_CHANNEL_FAILURE)
			code = DEVKIT_EPROTO;
		char why[512];
		snprintf(why, sizeof(why), "bastion could not open a channel to %s:%d: %s",
			req->host, req->port, m && *m ? m : "channel open failed");
		finish(req, NULL, code, why);
	}
}
