/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `devkit expose` prints. Human mode: timestamped status lines on stdout.
 * --json mode: one JSON object per line on stdout (schema in docs/cli.md).
 * Errors and library log lines always go to stderr, so stdout stays parseable.
 */
#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_expose.h"

static const char *or_unknown(const char *name)
{
	return name ? name : "unknown";
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "signal";
	}
}

/* "HH:MM:SS message" on stdout, flushed; -1 if stdout is gone. The same
 * shape as `devkit tunnel`'s status lines. */
static int say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int say(const char *fmt, ...)
{
	char stamp[16] = "";
	char line[1024];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (printf("%s %s\n", stamp, cli_printable(line)) < 0 || fflush(stdout) != 0)
		return -1;
	return 0;
}

static const char *local_of(const struct expose_cli *t, char *buf, size_t size)
{
	return cli_format_hostport(buf, size, t->local.address, t->local.port);
}

static const char *advertised_of(const struct expose_cli *t, char *buf, size_t size)
{
	return cli_format_hostport(buf, size, t->advertised, t->advertised_port);
}

/* --- reading devkit_registration_describe() ---------------------------------- */

/*
 * The value of the first `"key":` in a JSON text, as a string (quotes removed,
 * simple escapes undone) or as the literal that follows (a number). Enough
 * for the flat top-level fields the CLI reads; the library's JSON writer puts
 * those before the nested objects, so the first match is the top-level one.
 */
static int json_field(const char *json, const char *key, char *out, size_t size)
{
	char pattern[64];
	const char *p;
	size_t n = 0;

	snprintf(pattern, sizeof(pattern), "\"%s\"", key);
	p = json ? strstr(json, pattern) : NULL;
	if (!p || size == 0)
		return -1;
	p += strlen(pattern);
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != ':')
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '"') {
		while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '.') && n + 1 < size)
			out[n++] = *p++;
		out[n] = '\0';
		return n ? 0 : -1;
	}
	for (p++; *p && *p != '"' && n + 1 < size; p++) {
		if (*p == '\\' && p[1])
			p++; /* \" \\ \/; other escapes do not occur in these fields */
		out[n++] = *p;
	}
	out[n] = '\0';
	return 0;
}

void expose_read_description(struct expose_cli *t)
{
	devkit_buf buf = DEVKIT_BUF_INIT;
	char port[16];

	if (devkit_registration_describe(t->reg, &buf) != 0 || !buf.ptr)
		return; /* the entry's own events say the rest */
	json_field(buf.ptr, "instance_id", t->instance_id, sizeof(t->instance_id));
	json_field(buf.ptr, "address", t->advertised, sizeof(t->advertised));
	if (json_field(buf.ptr, "port", port, sizeof(port)) == 0)
		t->advertised_port = atoi(port);
	devkit_buf_dispose(&buf);
}

/* --- the tunnel's description, as `devkit tunnel` shows it ------------------- */

static void each_describe_line(const devkit_buf *buf,
	void (*fn)(const char *key, size_t key_len, const char *value, size_t value_len, void *arg),
	void *arg)
{
	const char *p = buf->ptr, *end = buf->ptr + buf->size;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(line_end - p));

		if (eq && eq > p)
			fn(p, (size_t)(eq - p), eq + 1, (size_t)(line_end - eq - 1), arg);
		p = nl ? nl + 1 : end;
	}
}

static void describe_to_json(const char *key, size_t key_len, const char *value,
	size_t value_len, void *arg)
{
	char k[64], v[512];

	snprintf(k, sizeof(k), "%.*s", (int)key_len, key);
	snprintf(v, sizeof(v), "%.*s", (int)value_len, value);
	cli_json_string(arg, k, v);
}

struct text_acc {
	char text[768];
	size_t len;
};

static void describe_to_text(const char *key, size_t key_len, const char *value,
	size_t value_len, void *arg)
{
	struct text_acc *acc = arg;
	int n;

	/* The status line already names the bastion and says it is up. */
	if ((key_len == 7 && memcmp(key, "bastion", 7) == 0)
		|| (key_len == 5 && memcmp(key, "state", 5) == 0))
		return;
	if (acc->len >= sizeof(acc->text))
		return;
	n = snprintf(acc->text + acc->len, sizeof(acc->text) - acc->len, "%s%.*s=%.*s",
		acc->len ? ", " : "", (int)key_len, key, (int)value_len, value);
	if (n > 0)
		acc->len += (size_t)n;
}

/* --- start and ready ------------------------------------------------------------ */

int expose_report_started(struct expose_cli *t)
{
	devkit_buf info = DEVKIT_BUF_INIT;
	struct text_acc acc = { "", 0 };
	char remote[CLI_HOST_MAX + 16], local[CLI_HOST_MAX + 16], adv[CLI_HOST_MAX + 16];
	char instance[300] = "";
	int rc;

	/* A script waits for "ready"; the events before it say why it is late. */
	if (t->json)
		return 0;
	if (devkit_tunnel_describe(t->tunnel, &info) == 0 && info.ptr)
		each_describe_line(&info, describe_to_text, &acc);
	devkit_buf_dispose(&info);
	if (t->instance_id[0])
		snprintf(instance, sizeof(instance), " (instance %s)", t->instance_id);
	rc = say("tunnel up: %s%s%s%s", t->conn.bastion, acc.len ? " (" : "", acc.text,
		acc.len ? ")" : "");
	if (rc == 0)
		rc = say("remote %s on the bastion -> %s on this machine",
			cli_format_hostport(remote, sizeof(remote), t->remote_address, t->remote_bound_port),
			local_of(t, local, sizeof(local)));
	if (rc == 0)
		rc = say("registering %s at %s in %s%s%s", t->service,
			advertised_of(t, adv, sizeof(adv)), t->registry,
			t->registry_direct ? "" : " through the tunnel", instance);
	return rc;
}

static void json_ready(struct expose_cli *t)
{
	cli_json *j = &t->out;
	devkit_buf info = DEVKIT_BUF_INIT;
	char local[CLI_HOST_MAX + 16];

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "event", "ready");
	cli_json_string(j, "bastion", t->conn.bastion);
	cli_json_uint(j, "tunnel", t->tunnel_id);
	if (devkit_tunnel_describe(t->tunnel, &info) == 0 && info.ptr) {
		cli_json_object_begin(j, "session");
		each_describe_line(&info, describe_to_json, j);
		cli_json_object_end(j);
	}
	devkit_buf_dispose(&info);
	cli_json_uint(j, "registration", t->reg_id);
	cli_json_string(j, "state", "registered");
	cli_json_string(j, "registry", t->registry);
	cli_json_string(j, "service", t->service);
	cli_json_string(j, "instance_id", t->instance_id);
	cli_json_string(j, "protocol", t->protocol ? t->protocol : "http");
	cli_json_string(j, "local", local_of(t, local, sizeof(local)));
	/* What callers find in the registry... */
	cli_json_string(j, "address", t->advertised);
	cli_json_int(j, "port", t->advertised_port);
	/* ...and where the bastion listens for them. */
	cli_json_object_begin(j, "remote");
	cli_json_uint(j, "forward", t->forward_id);
	cli_json_string(j, "address", t->remote_address);
	cli_json_int(j, "port", t->remote_bound_port);
	cli_json_object_end(j);
	cli_json_bool(j, "registry_via_tunnel", !t->registry_direct);
	cli_json_object_end(j);
}

int expose_report_ready(struct expose_cli *t)
{
	char local[CLI_HOST_MAX + 16], adv[CLI_HOST_MAX + 16];

	if (t->json) {
		json_ready(t);
		return cli_json_write(&t->out, stdout);
	}
	if (say("exposed %s as %s at %s in %s: registered", local_of(t, local, sizeof(local)),
		t->service, advertised_of(t, adv, sizeof(adv)), t->registry) != 0)
		return -1;
	return say("ready; Ctrl-C to deregister and close");
}

/* --- events ---------------------------------------------------------------------- */

static int event_json(struct expose_cli *t, const devkit_event *ev)
{
	cli_json *j = &t->out;

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "event", or_unknown(devkit_event_type_name(ev->type)));
	cli_json_uint(j, "tunnel", ev->tunnel_id);
	if (ev->type == DEVKIT_EVENT_REGISTRATION_STATE) {
		/* cli_json_event_fields names tunnel states only. */
		cli_json_uint(j, "registration", ev->object_id);
		cli_json_string(j, "state", devkit_registration_state_name(ev->state));
	}
	if (ev->forward_id) {
		cli_json_uint(j, "forward", ev->forward_id);
		/* The tunnel carries only expose's forwards: the remote one, and local
		 * ones to the registry's hosts. */
		cli_json_string(j, "kind", ev->forward_id == t->forward_id ? "remote" : "local");
	}
	cli_json_event_fields(j, ev);
	cli_json_object_end(j);
	return cli_json_write(j, stdout);
}

/* The message without a leading "<state>" or "<state>: ", which the status
 * line already says. JSON keeps the message exactly as the library wrote it. */
static const char *without_state_prefix(const char *message, const char *state)
{
	size_t n = state ? strlen(state) : 0;

	if (n && strncmp(message, state, n) == 0) {
		if (message[n] == '\0')
			return "";
		if (message[n] == ':' && message[n + 1] == ' ')
			return message + n + 2;
	}
	return message;
}

/* ": message (error text)", each part only when present. */
static void format_why(char *why, size_t size, const char *message, int error)
{
	why[0] = '\0';
	if (message[0] && error)
		snprintf(why, size, ": %s (%s)", message, devkit_strerror(error));
	else if (message[0])
		snprintf(why, size, ": %s", message);
	else if (error)
		snprintf(why, size, ": %s", devkit_strerror(error));
}

static int registration_text(struct expose_cli *t, const devkit_event *ev, const char *why)
{
	const char *state = devkit_registration_state_name(ev->state);

	switch (ev->state) {
	case DEVKIT_REGISTRATION_RETRYING:
		/* The first failure of a run says what happens next, and where the
		 * registry is reached from: through the bastion, a registry that is
		 * down shows only as "Empty reply from server". */
		if (t->failures_in_a_row == 1)
			return say("registration retrying%s; %s, retrying until it answers", why,
				t->registry_direct ? "the registry is reached from this machine"
					: "the registry is reached through the bastion");
		return say("registration retrying%s", why);
	case DEVKIT_REGISTRATION_REGISTERED:
		return say("registered%s", why);
	case DEVKIT_REGISTRATION_DEREGISTERED:
		/* With an error, the entry stays until its TTL runs out. */
		return say("%s%s", ev->error ? "not deregistered" : "deregistered", why);
	default:
		return say("registration %s%s", state, why);
	}
}

static int forward_text(struct expose_cli *t, const devkit_event *ev, const char *why)
{
	char where[CLI_HOST_MAX + 16], local[CLI_HOST_MAX + 16];
	int ours = ev->forward_id == t->forward_id;

	if (ev->type == DEVKIT_EVENT_FORWARD_READY) {
		cli_format_hostport(where, sizeof(where), ev->address, ev->port);
		if (ours)
			return say("remote %s on the bastion -> %s on this machine (ready)", where,
				local_of(t, local, sizeof(local)));
		return say("registry forward #%llu ready on %s", (unsigned long long)ev->forward_id,
			where);
	}
	if (ours)
		return say("remote forward on the bastion failed%s", why);
	return say("registry forward #%llu failed%s", (unsigned long long)ev->forward_id, why);
}

static int event_text(struct expose_cli *t, const devkit_event *ev)
{
	const char *message = ev->message;
	const char *tstate = devkit_tunnel_state_name(ev->state);
	char why[512];

	if (ev->type == DEVKIT_EVENT_TUNNEL_STATE)
		message = without_state_prefix(message, tstate);
	format_why(why, sizeof(why), message, ev->error);

	switch (ev->type) {
	case DEVKIT_EVENT_TUNNEL_STATE:
		if (ev->attempt && ev->state == DEVKIT_TUNNEL_RECONNECTING && !strstr(message, "attempt"))
			return say("tunnel reconnecting (attempt %d)%s", ev->attempt, why);
		return say("tunnel %s%s", or_unknown(tstate), why);
	case DEVKIT_EVENT_REGISTRATION_STATE:
		return registration_text(t, ev, why);
	case DEVKIT_EVENT_FORWARD_READY:
	case DEVKIT_EVENT_FORWARD_FAILED:
		return forward_text(t, ev, why);
	case DEVKIT_EVENT_EVENTS_DROPPED:
		return say("%d events dropped: the queue was full", ev->attempt);
	default:
		return say("%s%s", or_unknown(devkit_event_type_name(ev->type)), why);
	}
}

int expose_report_event(struct expose_cli *t, const devkit_event *ev)
{
	return t->json ? event_json(t, ev) : event_text(t, ev);
}

int expose_report_closing(struct expose_cli *t, int sig)
{
	if (t->json) {
		cli_json_object_begin(&t->out, NULL);
		cli_json_string(&t->out, "event", "closing");
		cli_json_uint(&t->out, "tunnel", t->tunnel_id);
		cli_json_uint(&t->out, "registration", t->reg_id);
		cli_json_string(&t->out, "signal", signal_name(sig));
		cli_json_object_end(&t->out);
		return cli_json_write(&t->out, stdout);
	}
	return say("%s: deregistering %s and closing the tunnel", signal_name(sig), t->service);
}

void expose_report_error(struct expose_cli *t, const char *context, int rc)
{
	cli_report_error(&t->out, t->json, stdout, context, rc);
}
