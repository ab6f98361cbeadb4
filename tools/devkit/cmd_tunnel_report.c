/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `devkit tunnel` prints. Human mode: timestamped status lines on stdout.
 * --json mode: one JSON object per line on stdout (schema in docs/cli.md).
 * Errors and library log lines always go to stderr, so stdout stays parseable.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd_tunnel.h"

static const char *kind_name(devkit_forward_kind kind)
{
	switch (kind) {
	case DEVKIT_FORWARD_DYNAMIC: return "socks";
	case DEVKIT_FORWARD_LOCAL: return "local";
	case DEVKIT_FORWARD_REMOTE: return "remote";
	default: return "unknown";
	}
}

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

/* "HH:MM:SS message" on stdout, flushed; -1 if stdout is gone. */
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

static const char *target_of(const struct tunnel_forward *f, char *buf, size_t size)
{
	return cli_format_hostport(buf, size, f->spec.target_host, f->spec.target_port);
}

/* "local 127.0.0.1:8080 -> db:5432", the one-line picture of a forward. */
static const char *describe_forward(const struct tunnel_forward *f, char *buf, size_t size)
{
	char where[CLI_HOST_MAX + 16], target[CLI_HOST_MAX + 16];

	cli_format_hostport(where, sizeof(where), f->address, f->port);
	switch (f->kind) {
	case DEVKIT_FORWARD_DYNAMIC:
		snprintf(buf, size, "socks  %s: SOCKS5/SOCKS4/HTTP proxy through the bastion", where);
		break;
	case DEVKIT_FORWARD_LOCAL:
		snprintf(buf, size, "local  %s -> %s, as seen from the bastion", where,
			target_of(f, target, sizeof(target)));
		break;
	case DEVKIT_FORWARD_REMOTE:
		snprintf(buf, size, "remote %s on the bastion -> %s on this machine", where,
			target_of(f, target, sizeof(target)));
		break;
	default:
		snprintf(buf, size, "forward %s", where);
		break;
	}
	return buf;
}

static void json_forward(cli_json *j, const struct tunnel_forward *f)
{
	char target[CLI_HOST_MAX + 16];

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "kind", kind_name(f->kind));
	cli_json_uint(j, "id", f->id);
	cli_json_string(j, "address", f->address);
	cli_json_int(j, "port", f->port);
	if (f->kind != DEVKIT_FORWARD_DYNAMIC)
		cli_json_string(j, "target", target_of(f, target, sizeof(target)));
	cli_json_object_end(j);
}

/*
 * Walk devkit_tunnel_describe()'s "key=value" lines. The keys are whatever the
 * library reports (cipher, host key fingerprint, user...); the CLI passes them
 * through rather than guessing a fixed set.
 */
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

/* The router's part of "ready": what `devkit run --control` needs. */
static void json_routing(struct tunnel_cli *t)
{
	cli_json *j = &t->out;

	cli_json_string(j, "control", devkit_router_control_path(t->router));
	if (t->dns)
		cli_cluster_json(j, &t->cluster, t->dns);
}

static int say_routing(struct tunnel_cli *t)
{
	const char *path = devkit_router_control_path(t->router);

	if (t->dns && say("names under %s resolve through the cluster DNS %s",
		t->cluster.domains, t->cluster.cluster_dns) != 0)
		return -1;
	return say("control %s: devkit run --control %s -- CMD routes CMD through this tunnel",
		path, path);
}

int report_ready(struct tunnel_cli *t)
{
	devkit_buf info = DEVKIT_BUF_INIT;
	int have_info = devkit_tunnel_describe(t->tunnel, &info) == 0 && info.ptr;
	int rc = 0;

	if (t->json) {
		cli_json *j = &t->out;

		cli_json_object_begin(j, NULL);
		cli_json_string(j, "event", "ready");
		cli_json_string(j, "bastion", t->conn.bastion);
		cli_json_uint(j, "tunnel", t->tunnel_id);
		if (have_info) {
			cli_json_object_begin(j, "session");
			each_describe_line(&info, describe_to_json, j);
			cli_json_object_end(j);
		}
		cli_json_array_begin(j, "forwards");
		for (size_t i = 0; i < t->n_forwards; i++)
			json_forward(j, &t->forwards[i]);
		cli_json_array_end(j);
		if (t->router)
			json_routing(t);
		cli_json_object_end(j);
		rc = cli_json_write(j, stdout);
	} else {
		struct text_acc acc = { "", 0 };
		char line[CLI_HOST_MAX * 3];

		if (have_info)
			each_describe_line(&info, describe_to_text, &acc);
		rc = say("tunnel up: %s%s%s%s", t->conn.bastion, acc.len ? " (" : "", acc.text,
			acc.len ? ")" : "");
		for (size_t i = 0; rc == 0 && i < t->n_forwards; i++)
			rc = say("%s", describe_forward(&t->forwards[i], line, sizeof(line)));
		if (rc == 0 && t->router)
			rc = say_routing(t);
		if (rc == 0)
			rc = say("ready; Ctrl-C to close");
	}
	devkit_buf_dispose(&info);
	return rc;
}

static int event_json(struct tunnel_cli *t, const devkit_event *ev)
{
	cli_json *j = &t->out;
	struct tunnel_forward *f = tunnel_find_forward(t, ev->forward_id);

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "event", or_unknown(devkit_event_type_name(ev->type)));
	cli_json_uint(j, "tunnel", ev->tunnel_id);
	if (ev->forward_id) {
		cli_json_uint(j, "forward", ev->forward_id);
		if (f)
			cli_json_string(j, "kind", kind_name(f->kind));
	}
	cli_json_event_fields(j, ev);
	cli_json_object_end(j);
	return cli_json_write(j, stdout);
}

/*
 * The message without a leading "<state>" or "<state>: ", which the status
 * line already says ("tunnel closed: closed" reads badly). JSON keeps the
 * message exactly as the library wrote it.
 */
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

static int event_text(struct tunnel_cli *t, const devkit_event *ev)
{
	struct tunnel_forward *f = tunnel_find_forward(t, ev->forward_id);
	const char *state = devkit_tunnel_state_name(ev->state);
	const char *message = ev->message;
	char what[CLI_HOST_MAX * 3], why[512] = "";

	if (ev->type == DEVKIT_EVENT_TUNNEL_STATE)
		message = without_state_prefix(message, state);
	/* ": message (error text)", each part only when present. */
	if (message[0] && ev->error)
		snprintf(why, sizeof(why), ": %s (%s)", message, devkit_strerror(ev->error));
	else if (message[0])
		snprintf(why, sizeof(why), ": %s", message);
	else if (ev->error)
		snprintf(why, sizeof(why), ": %s", devkit_strerror(ev->error));

	switch (ev->type) {
	case DEVKIT_EVENT_TUNNEL_STATE:
		/* The library's message usually counts attempts itself. */
		if (ev->attempt && ev->state == DEVKIT_TUNNEL_RECONNECTING && !strstr(message, "attempt"))
			return say("tunnel reconnecting (attempt %d)%s", ev->attempt, why);
		return say("tunnel %s%s", or_unknown(state), why);
	case DEVKIT_EVENT_FORWARD_READY:
		/* Our one-line picture says all a person needs; JSON has the message. */
		if (f)
			return say("%s (ready)", describe_forward(f, what, sizeof(what)));
		return say("forward #%llu ready on %s%s", (unsigned long long)ev->forward_id,
			cli_format_hostport(what, sizeof(what), ev->address, ev->port), why);
	case DEVKIT_EVENT_FORWARD_FAILED:
		if (f)
			return say("%s %s failed%s", f->flag, f->arg, why);
		return say("forward #%llu failed%s", (unsigned long long)ev->forward_id, why);
	case DEVKIT_EVENT_EVENTS_DROPPED:
		return say("%d events dropped: the queue was full", ev->attempt);
	default:
		return say("%s%s", or_unknown(devkit_event_type_name(ev->type)), why);
	}
}

int report_event(struct tunnel_cli *t, const devkit_event *ev)
{
	return t->json ? event_json(t, ev) : event_text(t, ev);
}

/* 1536 -> "1.5 KiB": counters are read by people in human mode. */
static const char *human_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

int report_stats(struct tunnel_cli *t)
{
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	int rc = devkit_tunnel_get_stats(t->tunnel, &ts);

	if (rc != 0) {
		char why[512];

		cli_lib_error_text(rc, why, sizeof(why));
		cli_errorf("tunnel stats: %s", why);
		return 0; /* a missed sample is not worth stopping the tunnel for */
	}
	if (t->json) {
		cli_json *j = &t->out;

		cli_json_object_begin(j, NULL);
		cli_json_string(j, "event", "stats");
		cli_json_uint(j, "tunnel", t->tunnel_id);
		cli_json_string(j, "state", or_unknown(devkit_tunnel_state_name(ts.state)));
		cli_json_uint(j, "reconnects", ts.reconnects);
		cli_json_uint(j, "bytes_in", ts.bytes_in);
		cli_json_uint(j, "bytes_out", ts.bytes_out);
		cli_json_uint(j, "channels_open", ts.channels_open);
		cli_json_uint(j, "channels_total", ts.channels_total);
		cli_json_uint(j, "failures", ts.failures);
		cli_json_uint(j, "forward_count", ts.forwards);
		cli_json_array_begin(j, "forwards");
		for (size_t i = 0; i < t->n_forwards; i++) {
			struct tunnel_forward *f = &t->forwards[i];
			devkit_forward_stats fs = DEVKIT_FORWARD_STATS_INIT;

			if (!f->forward || devkit_forward_get_stats(f->forward, &fs) != 0)
				continue;
			cli_json_object_begin(j, NULL);
			cli_json_uint(j, "id", f->id);
			cli_json_string(j, "kind", kind_name(f->kind));
			cli_json_uint(j, "bytes_in", fs.bytes_in);
			cli_json_uint(j, "bytes_out", fs.bytes_out);
			cli_json_uint(j, "channels_open", fs.channels_open);
			cli_json_uint(j, "channels_total", fs.channels_total);
			cli_json_uint(j, "failures", fs.failures);
			cli_json_object_end(j);
		}
		cli_json_array_end(j);
		cli_json_object_end(j);
		return cli_json_write(j, stdout);
	} else {
		char in[32], out[32];

		return say("stats: %s; connections %llu open, %llu total; in %s, out %s; "
			"%llu failures; %llu reconnects",
			or_unknown(devkit_tunnel_state_name(ts.state)),
			(unsigned long long)ts.channels_open, (unsigned long long)ts.channels_total,
			human_bytes(ts.bytes_in, in, sizeof(in)),
			human_bytes(ts.bytes_out, out, sizeof(out)),
			(unsigned long long)ts.failures, (unsigned long long)ts.reconnects);
	}
}

int report_closing(struct tunnel_cli *t, int sig)
{
	if (t->json) {
		cli_json_object_begin(&t->out, NULL);
		cli_json_string(&t->out, "event", "closing");
		cli_json_uint(&t->out, "tunnel", t->tunnel_id);
		cli_json_string(&t->out, "signal", signal_name(sig));
		cli_json_object_end(&t->out);
		return cli_json_write(&t->out, stdout);
	}
	return say("%s: closing the tunnel", signal_name(sig));
}

void report_error(struct tunnel_cli *t, const char *context, int rc)
{
	cli_report_error(&t->out, t->json, stdout, context, rc);
}

struct tunnel_forward *tunnel_find_forward(struct tunnel_cli *t, uint64_t id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < t->n_forwards; i++) {
		if (t->forwards[i].id == id)
			return &t->forwards[i];
	}
	return NULL;
}
