/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dynamic forward's handshake: feed the client's first bytes to the proxy
 * parser (SOCKS5, SOCKS4/4a or HTTP, told apart by the first byte) until it
 * names a destination, then ask the session for a channel to it. The name is
 * passed to the bastion as it is: cluster-only names resolve there, never here.
 */
#include "tunnel_int.h"

#include <stdlib.h>
#include <string.h>

void devkit__dynamic_on_read(devkit__link *l, const char *data, size_t n)
{
	devkit_forward *f = l->fwd;
	devkit_ctx *ctx = f->tunnel->ctx;
	if (!l->proxy) {
		l->proxy = calloc(1, sizeof(*l->proxy));
		if (!l->proxy) {
			devkit__link_close(l, 1);
			return;
		}
		devkit__proxy_init(l->proxy, f->proxy_username, f->proxy_password);
	}
	devkit__bytes reply = DEVKIT__BYTES_INIT;
	devkit__proxy_status st = devkit__proxy_feed(l->proxy, data, n, &reply);
	if (st == DEVKIT__PROXY_FAILED) {
		devkit__log(ctx, DEVKIT_LOG_INFO, "forward %llu: refused a proxy request: %s",
			(unsigned long long)f->id, l->proxy->error[0] ? l->proxy->error : "malformed");
		devkit__link_reply_and_close(l, &reply);
		devkit__bytes_free(&reply);
		return;
	}
	if (devkit__bytes_avail(&reply) > 0 &&
		devkit__link_write_local(l, devkit__bytes_head(&reply), devkit__bytes_avail(&reply)) < 0) {
		devkit__bytes_free(&reply);
		return;
	}
	devkit__bytes_free(&reply);
	if (st != DEVKIT__PROXY_READY)
		return;
	l->target_host = strdup(l->proxy->host);
	l->target_port = l->proxy->port;
	if (!l->target_host) {
		devkit__link_close(l, 1);
		return;
	}
	devkit__log(ctx, DEVKIT_LOG_DEBUG, "forward %llu: proxy request for %s:%d",
		(unsigned long long)f->id, l->target_host, l->target_port);
	devkit__link_enqueue_open(l);
}
