/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_debug: the IDE's debugger on the app of a replica.
 *
 * The keep-alive (src/replica/command.c) reads ${R}/app.env before each
 * start of the app, so turning the agent on is one line there, marked with
 * DEVKIT__DEBUG_MARK, that appends the JDWP agent to JAVA_TOOL_OPTIONS
 * (which every JVM reads, whatever the app's start command); the other
 * lines of app.env are the user's and stay. Then the app is restarted and
 * the local forward carries the IDE's connection to the agent's port,
 * through the API server's port-forward or a bastion tunnel to the Pod IP.
 *
 * The forward is started before anything changes in the container, so a
 * local port that is taken fails the call without restarting the app.
 */
#include "debug_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "k8s/k8s_int.h"

#define DEFAULT_PORT 5005
#define DEFAULT_TIMEOUT_MS 60000u
/* A second devkit_debug_start finds the agent already on: handshakes for
 * this long (refusals tried again every REUSE_RETRY_MS) decide whether
 * the running JVM can be reused. */
#define REUSE_PROBE_MS 1000
#define REUSE_RETRY_MS 100

int devkit_debug_options_init(devkit_debug_options *opts, unsigned int version)
{
	static const devkit_debug_options defaults = DEVKIT_DEBUG_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_DEBUG_OPTIONS_VERSION, "devkit_debug_options_init");
}

/* --- app.env ----------------------------------------------------------------------- */

/* The app.env line: `export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:+...}OPT"
 * # devkit debug`, with OPT escaped for sh's double quotes. New string or
 * NULL (out of memory). */
static char *agent_line(const char *option)
{
	static const char head[] = "export JAVA_TOOL_OPTIONS=\"${JAVA_TOOL_OPTIONS:+"
		"$JAVA_TOOL_OPTIONS }";
	static const char tail[] = "\" " DEVKIT__DEBUG_MARK;
	size_t n = sizeof(head) + sizeof(tail);
	for (const char *p = option; *p; p++)
		n += strchr("\\\"$`", *p) ? 2 : 1;
	char *line = malloc(n), *w = line;
	if (!line)
		return NULL;
	memcpy(w, head, sizeof(head) - 1);
	w += sizeof(head) - 1;
	for (const char *p = option; *p; p++) {
		if (strchr("\\\"$`", *p))
			*w++ = '\\';
		*w++ = *p;
	}
	memcpy(w, tail, sizeof(tail));
	return line;
}

/* Put `line` in app.env in place of devkit's old line. Prints "same" when
 * it was there already, else rewrites the file (through a temporary one,
 * so the keep-alive never reads half of it) and prints "changed". */
static const char set_head[] = DEVKIT__LIVE_FIND_KEEPALIVE "f=\"$R/app.env\"\nL=";
static const char set_rest[] = "\n"
	"old=\n"
	"[ ! -f \"$f\" ] || old=`grep '" DEVKIT__DEBUG_MARK "$' \"$f\"`\n"
	"if [ \"$old\" = \"$L\" ]; then echo same; exit 0; fi\n"
	"{\n"
	"\tif [ -f \"$f\" ]; then grep -v '" DEVKIT__DEBUG_MARK "$' \"$f\"; [ $? -le 1 ] || exit 1; fi\n"
	"\tprintf '%s\\n' \"$L\"\n"
	"} >\"$f.devkit-new\" && mv -f \"$f.devkit-new\" \"$f\" || exit 1\n"
	"echo changed\n";

/* Remove devkit's line; an app.env left empty goes too. Prints "removed"
 * or "absent". */
static const char off_script[] = DEVKIT__LIVE_FIND_KEEPALIVE
	"f=\"$R/app.env\"\n"
	"if [ -f \"$f\" ] && grep -q '" DEVKIT__DEBUG_MARK "$' \"$f\"; then\n"
	"\t{ grep -v '" DEVKIT__DEBUG_MARK "$' \"$f\"; [ $? -le 1 ] || exit 1; } >\"$f.devkit-new\" &&\n"
	"\t\tmv -f \"$f.devkit-new\" \"$f\" || exit 1\n"
	"\t[ -s \"$f\" ] || rm -f \"$f\"\n"
	"\techo removed\n"
	"else\n"
	"\techo absent\n"
	"fi\n";

/* 1 when app.env changed, 0 when the line was there already, or the error. */
static int set_agent(devkit_k8s *k8s, const devkit__live_target *t, const char *line)
{
	char *quoted = devkit__live_sh_quote(line);
	size_t cap = sizeof(set_head) + sizeof(set_rest) + (quoted ? strlen(quoted) : 0);
	char *script = quoted ? malloc(cap) : NULL;
	if (!script) {
		free(quoted);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	snprintf(script, cap, "%s%s%s", set_head, quoted, set_rest);
	free(quoted);
	devkit_buf out = DEVKIT_BUF_INIT;
	int rc = devkit__live_sh_ok(k8s, t, "turning the debug agent on in app.env", script, &out);
	free(script);
	if (rc == 0)
		rc = !(out.ptr && strncmp(out.ptr, "same", 4) == 0);
	devkit_buf_dispose(&out);
	return rc;
}

/* --- the forward ------------------------------------------------------------------ */

static int start_forward(devkit_debug *d, devkit_k8s *k8s, const devkit_debug_options *o,
	const devkit__live_target *t, const char *name, int port, int local)
{
	/* Through the bastion: direct-tcpip to the Pod IP; else the API
	 * server's port-forward. Either is a devkit_pod_forward (exec.h). */
	int rc = o->tunnel
		? devkit_pod_forward_start_tunnel(&d->pf, k8s, o->tunnel, t->namespace_name, t->pod,
			port, o->bind_address, local)
		: devkit_pod_forward_start(&d->pf, k8s, t->namespace_name, t->pod, port,
			o->bind_address, local);
	if (rc == 0)
		d->port = devkit_pod_forward_port(d->pf);
	if (rc == DEVKIT_EEXISTS)
		return devkit__error_set(rc, "debug %s: local port %d is in use (choose another, or "
			"-1 for any free one): %s", name, local, devkit_error_last()->message);
	if (rc < 0)
		return devkit__error_set(rc, "debug %s: %s", name, devkit_error_last()->message);
	return 0;
}

/* Where to connect to reach the forward's listener. */
static const char *connect_host(const char *bind)
{
	if (!bind || !*bind || strcmp(bind, "0.0.0.0") == 0)
		return "127.0.0.1";
	if (strcmp(bind, "::") == 0)
		return "::1";
	return bind;
}

/* Whether the JVM that runs answers now. A debugger that just left (the
 * previous `devkit debug`'s IDE) leaves the agent without a listener for a
 * few ms, so a refusal is tried again for a short while. */
static int answers_now(const devkit__debug_wait *w)
{
	uint64_t end = devkit__live_now_ms() + REUSE_PROBE_MS;
	for (;;) {
		uint64_t now = devkit__live_now_ms();
		int r = devkit__debug_handshake(w->connect_host, w->local_port,
			(int)(end > now ? end - now : 1));
		if (r == DEVKIT__JDWP_READY)
			return 1;
		if (r != DEVKIT__JDWP_CLOSED || devkit__live_now_ms() + REUSE_RETRY_MS >= end)
			return 0;
		struct timespec ts = { 0, REUSE_RETRY_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* --- the calls ------------------------------------------------------------------- */

int devkit_debug_start(devkit_debug **out, devkit_k8s *k8s, const devkit_debug_options *opts)
{
	if (out)
		*out = NULL;
	if (!out || !k8s || !opts || !opts->pod || !*opts->pod)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_debug_start: out, the client, options "
			"and a Pod are required");
	if (opts->version < 1 || opts->version > DEVKIT_DEBUG_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_debug_start: options version %u is "
			"not supported (this library knows up to %u)", opts->version,
			DEVKIT_DEBUG_OPTIONS_VERSION);
	int port = opts->port ? opts->port : DEFAULT_PORT;
	if (port < 1 || port > 65535 || opts->local_port < -1 || opts->local_port > 65535)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_debug_start: port %d / local_port %d: "
			"a port is 1..65535 (local_port also 0: the same, -1: any free one)", opts->port,
			opts->local_port);
	const char *opt = opts->agent_option;
	if (opt && (!*opt || strpbrk(opt, "\r\n")))
		return devkit__error_set(DEVKIT_EINVAL, "devkit_debug_start: agent_option must be one "
			"non-empty line");
	int local = opts->local_port == 0 ? port : opts->local_port < 0 ? 0 : opts->local_port;
	/* A handshake would let a suspended JVM run (debug_wait.c), so an
	 * agent_option that suspends is waited for as suspend is. */
	int suspend = opts->suspend || (opt && strstr(opt, "suspend=y"));
	char option[160];
	if (!opt) {
		snprintf(option, sizeof(option), "-agentlib:jdwp=transport=dt_socket,server=y,"
			"suspend=%c,address=*:%d", suspend ? 'y' : 'n', port);
		opt = option;
	}
	devkit__live_target t = { opts->namespace_name, opts->pod, opts->container,
		opts->timeout_ms };
	char name[300];
	devkit__live_target_name(k8s, &t, name, sizeof(name));

	int rc;
	devkit_debug *d = calloc(1, sizeof(*d));
	if (!d)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	if ((rc = start_forward(d, k8s, opts, &t, name, port, local)) < 0)
		goto fail;

	char *line = agent_line(opt);
	if (!line) {
		rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		goto fail;
	}
	int changed = set_agent(k8s, &t, line);
	free(line);
	if ((rc = changed) < 0)
		goto fail;

	devkit__debug_wait w = { k8s, &t, connect_host(opts->bind_address), d->port, port, suspend,
		opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS };
	devkit_ctx *ctx = devkit__k8s_ctx(k8s);
	uint64_t t0 = devkit__live_now_ms(), waited = 0;
	/* Started before with the same agent and still answering (devkit debug
	 * run again after Ctrl-C): the IDE can attach to the JVM as it is. */
	if (!changed && !suspend && answers_now(&w)) {
		devkit__debug_relisten(&w);
		devkit__log(ctx, DEVKIT_LOG_INFO, "debug %s: the agent was on and answers: the app "
			"was not restarted", name);
	} else {
		devkit_buf state = DEVKIT_BUF_INIT;
		rc = devkit_app_control(k8s, t.namespace_name, t.pod, t.container, DEVKIT_APP_RESTART,
			&state);
		devkit_buf_dispose(&state);
		if (rc < 0)
			goto fail;
		uint64_t t1 = devkit__live_now_ms();
		if ((rc = devkit__debug_wait_ready(&w, &waited)) < 0)
			goto fail;
		devkit__log(ctx, DEVKIT_LOG_INFO, "debug %s: restarted in %llu ms; the JVM %s port %d "
			"%llu ms later", name, (unsigned long long)(t1 - t0),
			suspend ? "listens (suspended) on" : "answers JDWP on", port,
			(unsigned long long)waited);
	}
	*out = d;
	return 0;
fail:
	devkit_debug_free(d);
	return rc;
}

int devkit_debug_port(const devkit_debug *d)
{
	return d ? d->port : devkit__error_set(DEVKIT_EINVAL, "devkit_debug_port: no session");
}

void devkit_debug_free(devkit_debug *d)
{
	if (!d)
		return;
	devkit_pod_forward_free(d->pf);
	free(d);
}

int devkit_debug_off(devkit_k8s *k8s, const char *namespace_name, const char *pod,
	const char *container)
{
	if (!k8s || !pod || !*pod)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_debug_off: the client and a Pod are "
			"required");
	devkit__live_target t = { namespace_name, pod, container, 0 };
	devkit_buf out = DEVKIT_BUF_INIT;
	int rc = devkit__live_sh_ok(k8s, &t, "turning the debug agent off in app.env", off_script,
		&out);
	int removed = rc == 0 && out.ptr && strncmp(out.ptr, "removed", 7) == 0;
	devkit_buf_dispose(&out);
	if (rc < 0)
		return rc;
	/* Not on: the app already runs without it, and a restart would only
	 * cost the user the app's state. */
	if (!removed)
		return 0;
	return devkit_app_control(k8s, namespace_name, pod, container, DEVKIT_APP_RESTART, NULL);
}
