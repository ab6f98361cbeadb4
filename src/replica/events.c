/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DEVKIT_EVENT_REPLICA_STAGE events and replica ids: the only place where
 * replication meets the engine. Public calls run on the caller's thread, so
 * events go through devkit__event_post (which hops onto the loop, where an
 * event_cb must run) and ids come from the loop's counter through a call, so
 * that they never collide with those of tunnels and registrations.
 */
#include "replica_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/engine.h"
#include "k8s/k8s_int.h"

typedef struct id_call {
	devkit_ctx *ctx;
	uint64_t id;
} id_call;

static void take_id(devkit__call *call)
{
	id_call *a = call->arg;
	a->id = devkit__ctx_next_id(a->ctx);
	devkit__call_done(call, a->ctx, 0);
}

uint64_t devkit__replica_next_id(devkit_k8s *k8s)
{
	static uint64_t fallback = 1u << 30; /* no engine (never in practice) */
	devkit_ctx *ctx = devkit__k8s_ctx(k8s);
	id_call a = { ctx, 0 };
	devkit__call call = { .fn = take_id, .arg = &a };
	if (ctx && devkit__call_run(ctx, &call) == 0 && a.id)
		return a.id;
	return __atomic_add_fetch(&fallback, 1, __ATOMIC_RELAXED);
}

void devkit__replica_set_stage(devkit_replica *r, int stage, int error, const char *fmt, ...)
{
	devkit_event ev;
	va_list ap;
	__atomic_store_n(&r->stage, stage, __ATOMIC_RELEASE);
	memset(&ev, 0, sizeof(ev));
	ev.type = DEVKIT_EVENT_REPLICA_STAGE;
	ev.state = stage;
	ev.error = error;
	ev.object_id = r->id;
	snprintf(ev.address, sizeof(ev.address), "%s", r->name);
	va_start(ap, fmt);
	vsnprintf(ev.message, sizeof(ev.message), fmt, ap);
	va_end(ap);
	devkit_ctx *ctx = devkit__k8s_ctx(r->k8s);
	if (ctx)
		devkit__event_post(ctx, &ev);
}
