/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audited shell's pure parts, without a server: the marker filter
 * (every split of the output between two reads gives the same output and
 * markers), the line editor of a plain sh's prompt (every split of the
 * keystrokes too), the record as a JSON line and as an Event, and the
 * start script's choices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "live/shell_audit.h"
#include "live/shell_int.h"

#define KEY "0123456789abcdef"
#define MK(payload) "\033]6973;devkit-" KEY ";" payload "\007"

/* --- the marker filter ------------------------------------------------------------ */

typedef struct seen {
	char log[4096];  /* "kind|status|seq|text\n" per marker */
} seen;

static void on_marker(void *data, const devkit__shell_marker *m)
{
	seen *s = data;
	size_t n = strlen(s->log);
	snprintf(s->log + n, sizeof(s->log) - n, "%c|%d|%s|%.*s%s\n", m->kind, m->status, m->seq,
		(int)(m->text_len < 200 ? m->text_len : 200), m->text, m->truncated ? "|cut" : "");
}

/* Feed `in` cut at the given offsets (sorted, cuts[n] ends the list with
 * -1); the filtered output and the markers come back. */
static void run_filter(const char *in, size_t len, const size_t *cuts, size_t ncuts,
	devkit__bytes *out, seen *s)
{
	devkit__shell_filter f;
	devkit__shell_filter_init(&f, KEY);
	memset(s, 0, sizeof(*s));
	size_t at = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		cr_assert_eq(devkit__shell_filter_feed(&f, in + at, end - at, out, on_marker, s), 0);
		at = end;
	}
	cr_assert_eq(devkit__shell_filter_end(&f, out), 0);
	devkit__shell_filter_free(&f);
}

static void expect_filter(const char *in, size_t len, const char *want_out, const char *want_log)
{
	size_t want_len = strlen(want_out);
	/* whole, then every single cut, then every pair of cuts */
	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b++) {
			size_t cuts[2] = { a, b };
			devkit__bytes out = DEVKIT__BYTES_INIT;
			seen s;
			run_filter(in, len, cuts, 2, &out, &s);
			cr_assert_eq(out.len, want_len, "cut at %zu,%zu: %zu bytes out, want %zu: %.*s",
				a, b, out.len, want_len, (int)out.len, out.data ? out.data : "");
			cr_assert(want_len == 0 || memcmp(out.data, want_out, want_len) == 0,
				"cut at %zu,%zu: output %.*s", a, b, (int)out.len, out.data);
			cr_assert_str_eq(s.log, want_log, "cut at %zu,%zu", a, b);
			devkit__bytes_free(&out);
		}
	}
}

Test(shell_filter, markers_removed_at_every_split)
{
	static const char in[] =
		"login banner\r\n"
		MK("P;0;;")
		"$ echo hi\r\n"
		MK("S;1;echo hi")
		"hi\r\n"
		MK("P;0;1;echo hi")
		"$ \033[1mbold\033[0m \033]0;title\007"
		MK("S;2;printf 'a;b\\\\x\\x0a'")
		MK("P;1;2;printf 'a;b\\\\x\\x0a'")
		"\033";
	expect_filter(in, sizeof(in) - 1,
		"login banner\r\n$ echo hi\r\nhi\r\n$ \033[1mbold\033[0m \033]0;title\007\033",
		"P|0||\n"
		"S|-1|1|echo hi\n"
		"P|0|1|echo hi\n"
		"S|-1|2|printf 'a;b\\x\n'\n"
		"P|1|2|printf 'a;b\\x\n'\n");
}

Test(shell_filter, sh_markers)
{
	static const char in[] = MK("p;0") "$ for i in 1\r\n" MK("c") "> do :; done\r\n"
		MK("p;130") "$ ";
	expect_filter(in, sizeof(in) - 1, "$ for i in 1\r\n> do :; done\r\n$ ",
		"p|0||\nc|-1||\np|130||\n");
}

Test(shell_filter, another_sessions_marker_is_shown_as_it_is)
{
	/* cat of a file that holds a marker of another session (or a forgery
	 * without the key) must not be taken for the shell's */
	static const char in[] = "\033]6973;devkit-ffffffffffffffff;P;0;7;rm -rf /\007"
		"\033]6973;devkit-" KEY "X" MK("p;0");
	expect_filter(in, sizeof(in) - 1,
		"\033]6973;devkit-ffffffffffffffff;P;0;7;rm -rf /\007\033]6973;devkit-" KEY "X",
		"p|0||\n");
}

Test(shell_filter, malformed_and_cut_markers)
{
	/* with the key but not well formed: dropped, not shown; a marker cut by
	 * a control byte (the shell died while printing it) is dropped and the
	 * output goes on */
	static const char in[] = MK("P;x;1;a") MK("Q;1") MK("p;") "ok"
		"\033]6973;devkit-" KEY ";P;0;3;ec\r\nafter" MK("c");
	expect_filter(in, sizeof(in) - 1, "ok\r\nafter", "c|-1||\n");
}

Test(shell_filter, unfinished_prefix_at_the_end_is_output)
{
	static const char in[] = "tail \033]6973;dev";
	expect_filter(in, sizeof(in) - 1, "tail \033]6973;dev", "");
	/* an unfinished payload is dropped */
	static const char in2[] = "x" "\033]6973;devkit-" KEY ";S;4;sleep";
	expect_filter(in2, sizeof(in2) - 1, "x", "");
}

Test(shell_filter, byte_at_a_time)
{
	static const char in[] = "a" MK("P;0;5;ls -l") "b\033c" MK("p;2") "\033\033]6973;devkit-"
		KEY ";c\007d";
	size_t len = sizeof(in) - 1;
	size_t cuts[sizeof(in)];
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	devkit__bytes out = DEVKIT__BYTES_INIT;
	seen s;
	run_filter(in, len, cuts, len - 1, &out, &s);
	cr_assert_eq(out.len, 6);
	cr_assert(memcmp(out.data, "ab\033c\033d", 6) == 0);
	cr_assert_str_eq(s.log, "P|0|5|ls -l\np|2||\nc|-1||\n");
	devkit__bytes_free(&out);
}

Test(shell_filter, long_text_is_cut)
{
	size_t n = DEVKIT__SHELL_PAYLOAD_MAX + 500;
	char *in = malloc(n + 64);
	int k = snprintf(in, 64, "\033]6973;devkit-" KEY ";S;9;");
	memset(in + k, 'x', n);
	memcpy(in + k + n, "\007after", 6);
	devkit__bytes out = DEVKIT__BYTES_INIT;
	seen s;
	devkit__shell_filter f;
	devkit__shell_filter_init(&f, KEY);
	memset(&s, 0, sizeof(s));
	devkit__shell_filter_feed(&f, in, (size_t)k + n + 6, &out, on_marker, &s);
	cr_assert_eq(out.len, 5);
	cr_assert(memcmp(out.data, "after", 5) == 0);
	cr_assert(strstr(s.log, "|cut\n"), "%.60s", s.log);
	devkit__shell_filter_free(&f);
	devkit__bytes_free(&out);
	free(in);
}

Test(shell_filter, text_decoding)
{
	devkit__bytes b = DEVKIT__BYTES_INIT;
	static const char esc[] = "a\\\\b\\x09c\\x1bd\\x7fe\\q\\x4";
	cr_assert_eq(devkit__shell_text_decode(esc, sizeof(esc) - 1, &b), 0);
	/* \q is kept as it is; the escape cut at the end is dropped */
	cr_assert_eq(b.len, 11);
	cr_assert(memcmp(b.data, "a\\b\tc\033d\177e\\q", 11) == 0);
	devkit__bytes_free(&b);
}

/* --- the line editor --------------------------------------------------------------- */

typedef struct typed {
	devkit__shell_line_event event;
	char line[256];
	size_t taken;
} typed;

/* Type `in` one byte per write (or all at once): the first event, the line
 * then, and how many bytes it took. */
static typed type(const char *in, size_t len, int bytewise)
{
	static devkit__shell_line l;
	devkit__shell_line_reset(&l);
	typed t = { DEVKIT__LINE_MORE, "", 0 };
	while (t.taken < len) {
		devkit__shell_line_event ev;
		size_t chunk = bytewise ? 1 : len - t.taken;
		size_t n = devkit__shell_line_feed(&l, in + t.taken, chunk, &ev);
		t.taken += n;
		if (ev != DEVKIT__LINE_MORE) {
			t.event = ev;
			break;
		}
	}
	snprintf(t.line, sizeof(t.line), "%.200s", l.buf);
	return t;
}

static void expect_line(const char *in, devkit__shell_line_event event, const char *line,
	size_t taken)
{
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		typed t = type(in, strlen(in), bytewise);
		cr_assert_eq(t.event, event, "%s: event %d", in, t.event);
		cr_assert_str_eq(t.line, line, "typed %s", in);
		cr_assert_eq(t.taken, taken, "%s: took %zu", in, t.taken);
	}
}

Test(shell_line, editing)
{
	expect_line("echo hello\r", DEVKIT__LINE_SUBMIT, "echo hello", 11);
	expect_line("ls\nsecret\n", DEVKIT__LINE_SUBMIT, "ls", 3);
	/* DEL (the Backspace key) and ^H */
	expect_line("echo hexx\177\177llo\r", DEVKIT__LINE_SUBMIT, "echo hello", 15);
	expect_line("ecx\bho\r", DEVKIT__LINE_SUBMIT, "echo", 7);
	/* a whole UTF-8 character per erase */
	expect_line("echo h\xc3\xa9\177e\r", DEVKIT__LINE_SUBMIT, "echo he", 11);
	expect_line("echo \xe2\x82\xac\177$\r", DEVKIT__LINE_SUBMIT, "echo $", 11);
	/* ^U the line, ^W the last word and the blanks after it */
	expect_line("rm -rf /\025ls\r", DEVKIT__LINE_SUBMIT, "ls", 12);
	expect_line("git push  \027\027status\r", DEVKIT__LINE_SUBMIT, "status", 19);
	/* ^V quotes */
	expect_line("a\026\025b\r", DEVKIT__LINE_SUBMIT, "a\025b", 5);
	/* cursor keys and bracketed paste marks are not text */
	expect_line("ls\033[A\033OB\033[200~ -l\033[201~\r", DEVKIT__LINE_SUBMIT, "ls -l", 24);
	/* ^C, ^D */
	expect_line("sleep 5\003", DEVKIT__LINE_CANCEL, "", 8);
	expect_line("\004", DEVKIT__LINE_EOF, "", 1);
	expect_line("ab\004c\r", DEVKIT__LINE_SUBMIT, "abc", 5);
	expect_line("partial", DEVKIT__LINE_MORE, "partial", 7);
}

Test(shell_line, too_long_is_cut)
{
	static devkit__shell_line l;
	devkit__shell_line_reset(&l);
	char *big = malloc(DEVKIT__SHELL_LINE_MAX + 10);
	memset(big, 'y', DEVKIT__SHELL_LINE_MAX + 10);
	devkit__shell_line_event ev;
	cr_assert_eq(devkit__shell_line_feed(&l, big, DEVKIT__SHELL_LINE_MAX + 10, &ev),
		DEVKIT__SHELL_LINE_MAX + 10);
	cr_assert_eq(l.len, DEVKIT__SHELL_LINE_MAX);
	cr_assert(l.truncated);
	free(big);
}

/* --- records ----------------------------------------------------------------------- */

Test(shell_record, json_line)
{
	devkit__shell_record r = { .time_ms = 1764064800123LL, .end_time_ms = 1764064801005LL,
		.user = "alice", .namespace_name = "dev", .pod = "web-1", .container = "app",
		.command = "printf '\\t\"x\"'\n\xff", .command_len = 16, .exit_status = 0 };
	char *line = devkit__shell_record_json(&r);
	cr_assert_str_eq(line, "{\"time\":\"2025-11-25T10:00:00.123Z\","
		"\"end_time\":\"2025-11-25T10:00:01.005Z\",\"user\":\"alice\",\"namespace\":\"dev\","
		"\"pod\":\"web-1\",\"container\":\"app\",\"command\":\"printf '\\\\t\\\"x\\\"'\\n\xef\xbf\xbd\","
		"\"exit_status\":0}\n");
	free(line);
	r.container = NULL;
	r.end_time_ms = 0;
	r.exit_status = -1;
	r.command = NULL;
	line = devkit__shell_record_json(&r);
	cr_assert(strstr(line, "\"end_time\":null,") && strstr(line, "\"container\":null,") &&
		strstr(line, "\"command\":null,") && strstr(line, "\"exit_status\":null}\n"), "%s",
		line);
	free(line);
}

Test(shell_record, event)
{
	char cmd[3000];
	/* 'é' (2 bytes) repeated: a cut inside one must not happen */
	for (size_t i = 0; i + 1 < sizeof(cmd); i += 2)
		memcpy(cmd + i, "\xc3\xa9", 2);
	devkit__shell_record r = { .time_ms = 1764064800123LL, .end_time_ms = 1764064802000LL,
		.user = "alice", .namespace_name = "dev", .pod = "web-1", .container = "app",
		.command = cmd, .command_len = sizeof(cmd) - 1, .exit_status = 2 };
	char *msg = devkit__shell_event_message(&r);
	cr_assert(strlen(msg) <= 1024, "%zu", strlen(msg));
	cr_assert(strncmp(msg, "alice ran: \xc3\xa9", 13) == 0);
	size_t len = strlen(msg);
	cr_assert(len > 1000);
	cr_assert_str_eq(msg + len - 12, "... (exit 2)");
	/* valid UTF-8 throughout */
	devkit__bytes clean = DEVKIT__BYTES_INIT;
	devkit__shell_utf8_clean(msg, len, &clean);
	cr_assert_eq(clean.len, len);
	devkit__bytes_free(&clean);
	free(msg);

	r.command = "make test";
	r.command_len = 9;
	char *body = devkit__shell_event_json(&r, "web-1.abc", "uid-1");
	json_t *ev = json_loads(body, 0, NULL);
	cr_assert_not_null(ev, "%s", body);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "reason")), "DevkitShellCommand");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "type")), "Normal");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "message")),
		"alice ran: make test (exit 2)");
	json_t *io = json_object_get(ev, "involvedObject");
	cr_assert_str_eq(json_string_value(json_object_get(io, "kind")), "Pod");
	cr_assert_str_eq(json_string_value(json_object_get(io, "name")), "web-1");
	cr_assert_str_eq(json_string_value(json_object_get(io, "namespace")), "dev");
	cr_assert_str_eq(json_string_value(json_object_get(io, "uid")), "uid-1");
	cr_assert_str_eq(json_string_value(json_object_get(io, "fieldPath")),
		"spec.containers{app}");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "source"),
		"component")), "devkit-shell");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "firstTimestamp")),
		"2025-11-25T10:00:00Z");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "lastTimestamp")),
		"2025-11-25T10:00:02Z");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "metadata"),
		"name")), "web-1.abc");
	json_decref(ev);
	free(body);

	r.exit_status = -1;
	msg = devkit__shell_event_message(&r);
	cr_assert_str_eq(msg, "alice ran: make test (not finished when the session closed)");
	free(msg);
}

/* --- the start script ---------------------------------------------------------------- */

Test(shell_script, choices)
{
	char *s = devkit__shell_script(NULL, KEY);
	cr_assert(strstr(s, "if command -v bash >/dev/null 2>&1; then\nexec bash --rcfile "
		"/dev/fd/3 -i 3<<'DEVKIT_RC'\n__devkit_k=devkit-" KEY "\n"), "%s", s);
	cr_assert(strstr(s, "exec sh -i 3<<'DEVKIT_RC'\n__devkit_k=devkit-" KEY "\n"), "%s", s);
	free(s);
	s = devkit__shell_script("/usr/local/bin/bash", KEY);
	cr_assert(strncmp(s, "exec '/usr/local/bin/bash' --rcfile", 35) == 0, "%s", s);
	cr_assert_null(strstr(s, "exec sh"));
	free(s);
	s = devkit__shell_script("ash", KEY);
	cr_assert(strstr(s, "exec 'ash' -i 3<<") && !strstr(s, "--rcfile"), "%s", s);
	/* no control byte travels in the script: the markers are made by printf */
	for (const char *p = s; *p; p++)
		cr_assert(*p == '\n' || *p == '\t' || (unsigned char)*p >= 0x20, "byte %d", *p);
	free(s);
	/* the exec request carries only the boot command: API servers and
	 * proxies limit a URL to a few KiB */
	s = devkit__shell_boot(KEY);
	cr_assert(strlen(s) < 300, "%zu bytes: %s", strlen(s), s);
	cr_assert(strstr(s, "stty -echo") && strstr(s, "devkit-" KEY ";r"), "%s", s);
	free(s);
	cr_assert(devkit__shell_name_ok("sh"));
	cr_assert(devkit__shell_name_ok("/bin/busybox"));
	cr_assert_not(devkit__shell_name_ok("bash; rm -rf /"));
	cr_assert_not(devkit__shell_name_ok(""));
}
