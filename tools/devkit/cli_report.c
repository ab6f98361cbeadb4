/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Status output shared by `devkit tunnel`, `devkit expose` and `devkit run`;
 * see cli_report.h for why it is kept in one place.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_report.h"
#include "cli_util.h"

const char *cli_or_unknown(const char *name)
{
	return name ? name : "unknown";
}

const char *cli_signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "signal";
	}
}

int cli_say(const char *fmt, ...)
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

const char *cli_without_state_prefix(const char *message, const char *state)
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

/* --- devkit_tunnel_describe()'s "key=value" lines -------------------------- */

typedef void describe_fn(const char *key, size_t key_len, const char *value, size_t value_len,
	void *arg);

static void each_describe_line(const devkit_buf *buf, describe_fn *fn, void *arg)
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

/* Fills `info`; 0 when there is a description to read. */
static int describe(devkit_tunnel *tunnel, devkit_buf *info)
{
	return tunnel && devkit_tunnel_describe(tunnel, info) == 0 && info->ptr ? 0 : -1;
}

static void describe_to_json(const char *key, size_t key_len, const char *value,
	size_t value_len, void *arg)
{
	char k[64], v[512];

	snprintf(k, sizeof(k), "%.*s", (int)key_len, key);
	snprintf(v, sizeof(v), "%.*s", (int)value_len, value);
	cli_json_string(arg, k, v);
}

void cli_json_session(cli_json *j, devkit_tunnel *tunnel)
{
	devkit_buf info = DEVKIT_BUF_INIT;

	if (describe(tunnel, &info) == 0) {
		cli_json_object_begin(j, "session");
		each_describe_line(&info, describe_to_json, j);
		cli_json_object_end(j);
	}
	devkit_buf_dispose(&info);
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

int cli_say_tunnel_up(const char *bastion, devkit_tunnel *tunnel)
{
	devkit_buf info = DEVKIT_BUF_INIT;
	struct text_acc acc = { "", 0 };

	if (describe(tunnel, &info) == 0)
		each_describe_line(&info, describe_to_text, &acc);
	devkit_buf_dispose(&info);
	return cli_say("tunnel up: %s%s%s%s", bastion, acc.len ? " (" : "", acc.text,
		acc.len ? ")" : "");
}

/* --- events ----------------------------------------------------------------- */

/* A tunnel-state event's message without the state the status line names. */
static const char *event_message(const devkit_event *ev)
{
	if (ev->type == DEVKIT_EVENT_TUNNEL_STATE)
		return cli_without_state_prefix(ev->message, devkit_tunnel_state_name(ev->state));
	return ev->message;
}

const char *cli_event_why(const devkit_event *ev, char *why, size_t size)
{
	const char *message = event_message(ev);

	why[0] = '\0';
	if (message[0] && ev->error)
		snprintf(why, size, ": %s (%s)", message, devkit_strerror(ev->error));
	else if (message[0])
		snprintf(why, size, ": %s", message);
	else if (ev->error)
		snprintf(why, size, ": %s", devkit_strerror(ev->error));
	return why;
}

int cli_say_event(const devkit_event *ev, const char *why)
{
	switch (ev->type) {
	case DEVKIT_EVENT_TUNNEL_STATE:
		/* The library's message usually counts attempts itself. */
		if (ev->attempt && ev->state == DEVKIT_TUNNEL_RECONNECTING
			&& !strstr(event_message(ev), "attempt"))
			return cli_say("tunnel reconnecting (attempt %d)%s", ev->attempt, why);
		return cli_say("tunnel %s%s", cli_or_unknown(devkit_tunnel_state_name(ev->state)),
			why);
	case DEVKIT_EVENT_EVENTS_DROPPED:
		return cli_say("%d events dropped: the queue was full", ev->attempt);
	default:
		return cli_say("%s%s", cli_or_unknown(devkit_event_type_name(ev->type)), why);
	}
}

/* --- forwards ---------------------------------------------------------------- */

const char *cli_forward_kind_name(int kind)
{
	switch (kind) {
	case DEVKIT_FORWARD_DYNAMIC: return "socks";
	case DEVKIT_FORWARD_LOCAL: return "local";
	case DEVKIT_FORWARD_REMOTE: return "remote";
	default: return "unknown";
	}
}

const char *cli_describe_forward(char *buf, size_t size, int kind, const char *address, int port,
	const char *target_host, int target_port)
{
	char where[CLI_HOST_MAX + 16], target[CLI_HOST_MAX + 16];

	cli_format_hostport(where, sizeof(where), address, port);
	if (kind != DEVKIT_FORWARD_DYNAMIC)
		cli_format_hostport(target, sizeof(target), target_host, target_port);
	switch (kind) {
	case DEVKIT_FORWARD_DYNAMIC:
		snprintf(buf, size, "socks  %s: SOCKS5/SOCKS4/HTTP proxy through the bastion", where);
		break;
	case DEVKIT_FORWARD_LOCAL:
		snprintf(buf, size, "local  %s -> %s, as seen from the bastion", where, target);
		break;
	case DEVKIT_FORWARD_REMOTE:
		snprintf(buf, size, "remote %s on the bastion -> %s on this machine", where, target);
		break;
	default:
		snprintf(buf, size, "forward %s", where);
		break;
	}
	return buf;
}

const char *cli_human_bytes(uint64_t n, char *buf, size_t size)
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
