/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_util.h"
#include "cli_json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <devkit.h>

char *cli_printable(char *text)
{
	for (unsigned char *p = (unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return text;
}

void cli_errorf(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One call, so the line is not torn by a library log line from the I/O thread. */
	fprintf(stderr, "devkit: %s\n", cli_printable(line));
}

int cli_usage(const char *command, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "devkit: %s\nTry 'devkit %s%s--help'.\n", line,
		command ? command : "", command ? " " : "");
	return CLI_EXIT_USAGE;
}

void cli_lib_error_text(int rc, char *buf, size_t size)
{
	const devkit_error *e = devkit_error_last();

	if (e && e->message && e->message[0])
		snprintf(buf, size, "%s", e->message);
	else
		snprintf(buf, size, "%s", devkit_strerror(rc));
}

int cli_parse_port(const char *text, int min, int *out, char *err, size_t errsize)
{
	long value = 0;
	const char *p;

	if (!text || !*text) {
		snprintf(err, errsize, "missing port");
		return -1;
	}
	/* Digits only: strtol would accept "+80", " 80" and "0x50". */
	for (p = text; *p; p++) {
		if (!isdigit((unsigned char)*p)) {
			snprintf(err, errsize, "'%s' is not a port number", text);
			return -1;
		}
		if (value <= 65535)
			value = value * 10 + (*p - '0');
	}
	if (value < min || value > 65535) {
		snprintf(err, errsize, "'%s' is out of range (%d..65535)", text, min);
		return -1;
	}
	*out = (int)value;
	return 0;
}

int cli_parse_seconds(const char *text, double *out, char *err, size_t errsize)
{
	char *end = NULL;
	double value;

	errno = 0;
	value = text && *text ? strtod(text, &end) : 0.0;
	if (!text || !*text || errno || !end || *end || !isfinite(value) || value <= 0.0
			|| value > 31536000.0) {
		snprintf(err, errsize, "'%s' is not a number of seconds (> 0)", text ? text : "");
		return -1;
	}
	*out = value;
	return 0;
}

/* One ':'-separated part of a spec; `bracketed` when written as "[...]". */
struct field {
	char text[CLI_HOST_MAX];
	int bracketed;
};

/*
 * Split on ':' but keep "[...]" whole, so "[::1]:8080:[fd00::5]:80" gives four
 * parts. An unbracketed IPv6 literal yields too many parts and is refused with
 * a hint rather than guessed at: "::1:8080:h:80" has no single right reading.
 */
static int split_fields(const char *spec, struct field *fields, int max, int *count,
	char *err, size_t errsize)
{
	const char *p = spec;
	int n = 0;

	for (;;) {
		const char *start, *end;
		struct field *f;
		size_t len;

		if (n == max) {
			snprintf(err, errsize, "too many ':'-separated parts "
				"(IPv6 addresses go in brackets, e.g. [::1])");
			return -1;
		}
		f = &fields[n++];
		f->bracketed = 0;
		if (*p == '[') {
			start = p + 1;
			end = strchr(start, ']');
			if (!end) {
				snprintf(err, errsize, "'[' without a matching ']'");
				return -1;
			}
			if (end == start) {
				snprintf(err, errsize, "empty address in brackets");
				return -1;
			}
			p = end + 1;
			if (*p != ':' && *p != '\0') {
				snprintf(err, errsize, "']' must be followed by ':'");
				return -1;
			}
			f->bracketed = 1;
		} else {
			start = p;
			end = p + strcspn(p, ":[]");
			if (*end == '[' || *end == ']') {
				snprintf(err, errsize, "unexpected '%c' (brackets enclose a whole address)",
					*end);
				return -1;
			}
			p = end;
		}
		len = (size_t)(end - start);
		if (len >= CLI_HOST_MAX) {
			snprintf(err, errsize, "'%.24s...' is too long", start);
			return -1;
		}
		memcpy(f->text, start, len);
		f->text[len] = '\0';
		for (size_t i = 0; i < len; i++) {
			if (isspace((unsigned char)f->text[i]) || iscntrl((unsigned char)f->text[i])) {
				snprintf(err, errsize, "'%s' contains white space or a control character",
					f->text);
				return -1;
			}
		}
		if (*p == '\0')
			break;
		if (p[1] == '\0') {
			/* Else "8080:h:80:" would be read as ADDR:PORT:... and the
			 * message would blame the wrong part. */
			snprintf(err, errsize, "ends with ':'");
			return -1;
		}
		p++; /* the ':' */
	}
	*count = n;
	return 0;
}

static int port_field(const struct field *f, const char *what, int min, int *out,
	char *err, size_t errsize)
{
	char why[160];

	if (f->bracketed) {
		snprintf(err, errsize, "%s '[%s]': a port is not written in brackets", what, f->text);
		return -1;
	}
	if (cli_parse_port(f->text, min, out, why, sizeof(why)) != 0) {
		snprintf(err, errsize, "%s: %s", what, why);
		return -1;
	}
	return 0;
}

int cli_parse_listen(const char *text, cli_listen_spec *out, char *err, size_t errsize)
{
	struct field fields[2];
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (split_fields(text, fields, 2, &n, err, errsize) != 0)
		return -1;
	if (n == 2)
		memcpy(out->address, fields[0].text, sizeof(out->address));
	return port_field(&fields[n - 1], "port", 0, &out->port, err, errsize);
}

int cli_parse_forward(const char *text, cli_forward_spec *out, char *err, size_t errsize)
{
	struct field fields[4];
	int n = 0, first;

	memset(out, 0, sizeof(*out));
	if (split_fields(text, fields, 4, &n, err, errsize) != 0)
		return -1;
	if (n < 3) {
		snprintf(err, errsize, "expected [ADDR:]PORT:HOST:PORT");
		return -1;
	}
	first = n - 3;
	if (first == 1)
		memcpy(out->listen.address, fields[0].text, sizeof(out->listen.address));
	if (port_field(&fields[first], "listen port", 0, &out->listen.port, err, errsize) != 0)
		return -1;
	if (!fields[first + 1].text[0]) {
		snprintf(err, errsize, "missing target host");
		return -1;
	}
	memcpy(out->target_host, fields[first + 1].text, sizeof(out->target_host));
	/* A target must be a real port: 0 only means "choose" on the listening side. */
	return port_field(&fields[first + 2], "target port", 1, &out->target_port, err, errsize);
}

const char *cli_format_hostport(char *buf, size_t size, const char *host, int port)
{
	if (!host || !*host)
		host = "127.0.0.1";
	if (strchr(host, ':'))
		snprintf(buf, size, "[%s]:%d", host, port);
	else
		snprintf(buf, size, "%s:%d", host, port);
	return buf;
}

int cli_secret_from_env(const char *var, const char **out, char *err, size_t errsize)
{
	const char *value;

	if (!var || !*var || strchr(var, '=')) {
		snprintf(err, errsize, "'%s' is not an environment variable name", var ? var : "");
		return -1;
	}
	value = getenv(var);
	if (!value) {
		snprintf(err, errsize, "environment variable %s is not set", var);
		return -1;
	}
	*out = value;
	return 0;
}

long long cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_report_error(struct cli_json *out, int json, FILE *json_to, const char *context, int rc)
{
	char why[1024];

	cli_lib_error_text(rc, why, sizeof(why));
	if (context)
		cli_errorf("%s: %s", context, why);
	else
		cli_errorf("%s", why);
	if (!json)
		return;
	char message[1200];
	snprintf(message, sizeof(message), "%s%s%s", context ? context : "", context ? ": " : "", why);
	cli_json_object_begin(out, NULL);
	cli_json_string(out, "event", "error");
	cli_json_int(out, "error_code", rc);
	cli_json_string(out, "error", devkit_strerror(rc));
	cli_json_string(out, "message", message);
	cli_json_object_end(out);
	(void)cli_json_write(out, json_to);
}

void cli_json_event_fields(struct cli_json *j, const devkit_event *ev)
{
	const char *state = devkit_tunnel_state_name(ev->state);

	if (ev->type == DEVKIT_EVENT_TUNNEL_STATE)
		cli_json_string(j, "state", state ? state : "unknown");
	if (ev->type == DEVKIT_EVENT_EVENTS_DROPPED)
		cli_json_int(j, "dropped", ev->attempt);
	else if (ev->attempt)
		cli_json_int(j, "attempt", ev->attempt);
	if (ev->address[0] || ev->type == DEVKIT_EVENT_FORWARD_READY) {
		cli_json_string(j, "address", ev->address);
		cli_json_int(j, "port", ev->port);
	}
	if (ev->error) {
		cli_json_int(j, "error_code", ev->error);
		cli_json_string(j, "error", devkit_strerror(ev->error));
	}
	if (ev->message[0])
		cli_json_string(j, "message", ev->message);
}
