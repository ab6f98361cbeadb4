/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_shell against the Kubernetes API fixture, whose exec with a
 * terminal runs the shell on a real pseudo-terminal on this machine (so
 * bash and dash are there): commands are typed as a user types them
 * (Enter is CR, Backspace is DEL, the Up key is ESC [ A) and the audit
 * log's JSON lines, the Events and the output the user sees are checked.
 * The last suite runs `devkit shell` with its stdin a pipe.
 */
#include "live_test.h"

#include <pwd.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

TestSuite(shell, .init = lt_setup, .fini = lt_teardown, .timeout = 180);

/* --- helpers ------------------------------------------------------------------------ */

typedef struct term {
	devkit_shell *s;
	char *out;      /* everything the user was shown */
	size_t len;
	int ended;      /* the output ended */
} term;

static const char *audit_path(void)
{
	return kt_path("audit.log");
}

static devkit_shell_options shell_opts(const char *shell, const char *user)
{
	devkit_shell_options o;
	cr_assert_eq(devkit_shell_options_init(&o, DEVKIT_SHELL_OPTIONS_VERSION), 0);
	o.pod = LT_POD;
	o.shell = shell;
	o.user = user;
	o.audit_log = audit_path();
	return o;
}

static void t_start(term *t, const devkit_shell_options *o)
{
	memset(t, 0, sizeof(*t));
	cr_assert_eq(devkit_shell_start(&t->s, lt_k8s, o), 0, "%s", lt_err());
}

/* Read until `needle` was shown (NULL: anything) and at least `commands`
 * were recorded, or the output ended. */
static void t_until(term *t, const char *needle, uint64_t commands)
{
	uint64_t deadline = (uint64_t)time(NULL) + 30;
	while (!t->ended) {
		if ((!needle || (t->out && strstr(t->out, needle))) &&
			devkit_shell_commands(t->s) >= commands)
			return;
		cr_assert((uint64_t)time(NULL) < deadline, "waited 30 s for \"%s\" and %llu commands "
			"(%llu so far); the terminal showed:\n%s", needle ? needle : "",
			(unsigned long long)commands, (unsigned long long)devkit_shell_commands(t->s),
			t->out ? t->out : "");
		devkit_buf b = DEVKIT_BUF_INIT;
		int rc = devkit_shell_read(t->s, &b, 200);
		if (rc == DEVKIT_ETIMEOUT)
			continue;
		cr_assert(rc >= 0, "read: %d %s", rc, lt_err());
		if (rc == 0) {
			t->ended = 1;
			break;
		}
		t->out = realloc(t->out, t->len + b.size + 1);
		memcpy(t->out + t->len, b.ptr, b.size);
		t->len += b.size;
		t->out[t->len] = '\0';
		devkit_buf_dispose(&b);
	}
	cr_assert(!needle || (t->out && strstr(t->out, needle)), "the output ended without \"%s\":"
		"\n%s", needle, t->out ? t->out : "");
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read for ms milliseconds, or to the end of the output. */
static void t_settle(term *t, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;
	while (!t->ended && mono_ms() < end) {
		devkit_buf b = DEVKIT_BUF_INIT;
		int rc = devkit_shell_read(t->s, &b, 100);
		if (rc == DEVKIT_ETIMEOUT)
			continue;
		cr_assert(rc >= 0, "%s", lt_err());
		if (rc == 0) {
			t->ended = 1;
			break;
		}
		t->out = realloc(t->out, t->len + b.size + 1);
		memcpy(t->out + t->len, b.ptr, b.size);
		t->len += b.size;
		t->out[t->len] = '\0';
		devkit_buf_dispose(&b);
	}
}

static void t_type(term *t, const char *keys)
{
	cr_assert_eq(devkit_shell_write(t->s, keys, strlen(keys)), 0, "%s", lt_err());
}

static void t_free(term *t)
{
	devkit_shell_free(t->s);
	t->s = NULL;
	free(t->out);
	t->out = NULL;
}

/* The output must show no marker. */
static void no_markers(const term *t)
{
	cr_assert_null(memmem(t->out, t->len, "6973;", 5), "a marker reached the terminal:\n%s",
		t->out);
	cr_assert_null(memmem(t->out, t->len, ";devkit-", 8), "%s", t->out);
}

/* The audit log's lines, as a JSON array. */
static json_t *audit_lines(void)
{
	json_t *all = json_array();
	FILE *f = fopen(audit_path(), "r");
	cr_assert_not_null(f, "no audit log at %s", audit_path());
	char line[70000];
	while (fgets(line, sizeof(line), f)) {
		cr_assert(line[strlen(line) - 1] == '\n', "a line without its end: %s", line);
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);
		cr_assert_not_null(j, "not JSON (%s): %s", err.text, line);
		json_array_append_new(all, j);
	}
	fclose(f);
	return all;
}

static const char *str_at(json_t *lines, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(lines, i), key));
}

static int status_at(json_t *lines, size_t i)
{
	json_t *v = json_object_get(json_array_get(lines, i), "exit_status");
	return json_is_integer(v) ? (int)json_integer_value(v) : json_is_null(v) ? -1 : -2;
}

/* "2026-11-25T10:00:00.123Z" into ms, asserting the form. */
static int64_t time_ms(const char *t)
{
	cr_assert_not_null(t);
	int y, mo, d, h, mi, s, ms;
	char z;
	cr_assert_eq(sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &s, &ms, &z),
		8, "%s", t);
	cr_assert(z == 'Z' && strlen(t) == 24, "%s", t);
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
		.tm_min = mi, .tm_sec = s };
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void expect_commands(json_t *lines, const char *const *commands, const int *statuses,
	size_t n)
{
	cr_assert_eq(json_array_size(lines), n, "%zu lines, want %zu: %s", json_array_size(lines),
		n, json_dumps(lines, 0));
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(str_at(lines, i, "command"), commands[i], "line %zu", i);
		cr_assert_eq(status_at(lines, i), statuses[i], "line %zu (%s)", i, commands[i]);
	}
}

/* --- bash ------------------------------------------------------------------------------ */

Test(shell, bash_records_each_command_as_run)
{
	lt_start("exec sleep 300", "");
	devkit_shell_options o = shell_opts(NULL, NULL);
	o.cols = 100;
	o.rows = 30;
	int64_t before = (int64_t)time(NULL) * 1000 - 1000;
	term t;
	t_start(&t, &o);
	cr_assert_eq(devkit_shell_commands(t.s), 0);
	t_type(&t, "echo hello\r");
	t_until(&t, "hello\r\n", 1);
	t_type(&t, "false\r");
	t_until(&t, NULL, 2);
	t_type(&t, "cd /tmp && pwd\r");
	t_until(&t, "/tmp\r\n", 3);
	/* edited with Backspace (DEL): recorded as run */
	t_type(&t, "echo typo\177\177\177\177fixed\r");
	t_until(&t, "fixed\r\n", 4);
	/* the Up key twice: bash runs `cd /tmp && pwd` again */
	t_type(&t, "\033[A\033[A\r");
	t_until(&t, NULL, 5);
	cr_assert_eq(devkit_shell_resize(t.s, 120, 40), 0, "%s", lt_err());
	t_type(&t, "stty size\r");
	t_until(&t, "40 120", 6);
	t_type(&t, "exit 3\r");
	t_until(&t, NULL, 6);
	t_settle(&t, 30000);  /* to the end */
	cr_assert(t.ended);
	int code = -1;
	cr_assert_eq(devkit_shell_wait(t.s, 10000, &code), 0, "%s", lt_err());
	cr_assert_eq(code, 3);
	cr_assert_eq(devkit_shell_commands(t.s), 7);
	no_markers(&t);
	t_free(&t);

	json_t *lines = audit_lines();
	static const char *const cmds[] = { "echo hello", "false", "cd /tmp && pwd", "echo fixed",
		"cd /tmp && pwd", "stty size", "exit 3" };
	static const int st[] = { 0, 1, 0, 0, 0, 0, 3 };
	expect_commands(lines, cmds, st, 7);
	struct passwd *pw = getpwuid(getuid());
	int64_t after = (int64_t)time(NULL) * 1000 + 1000, last_end = before;
	for (size_t i = 0; i < 7; i++) {
		cr_assert_str_eq(str_at(lines, i, "user"), pw->pw_name);
		cr_assert_str_eq(str_at(lines, i, "namespace"), LT_NS);
		cr_assert_str_eq(str_at(lines, i, "pod"), LT_POD);
		/* the Pod's only container, named by no option */
		cr_assert_str_eq(str_at(lines, i, "container"), LT_CONTAINER);
		int64_t t0 = time_ms(str_at(lines, i, "time")), t1 = time_ms(str_at(lines, i,
			"end_time"));
		cr_assert(t0 >= last_end - 5 && t0 <= t1 && t1 <= after, "line %zu: %s .. %s", i,
			str_at(lines, i, "time"), str_at(lines, i, "end_time"));
		last_end = t1;
	}
	json_decref(lines);
	struct stat st_log;
	cr_assert_eq(stat(audit_path(), &st_log), 0);
	cr_assert_eq(st_log.st_mode & 0777, 0600, "mode %o", st_log.st_mode & 0777);
}

Test(shell, a_password_typed_into_a_command_is_not_recorded)
{
	lt_start("exec sleep 300", "");
	/* 'Pass''word': the prompt shows "Password: ", the echoed command line
	 * does not */
	static const char *const shells[] = { "bash", "sh" };
	static const char *const cmds[] = {
		"read -rs -p 'Pass''word: ' pw; echo \"got ${#pw}\"",
		"stty -echo; printf 'Pass''word: '; read -r pw; stty echo; echo \"got ${#pw}\""
	};
	for (int i = 0; i < 2; i++) {
		devkit_shell_options o = shell_opts(shells[i], "alice");
		term t;
		t_start(&t, &o);
		t_type(&t, cmds[i]);
		t_type(&t, "\r");
		t_until(&t, "Password: ", 0);
		t_type(&t, "hunter2-secret\r");
		t_until(&t, "got 14", 1);
		cr_assert_null(strstr(t.out, "hunter2"), "%s", t.out);
		t_free(&t);
	}
	json_t *lines = audit_lines();
	static const int st[] = { 0, 0 };
	expect_commands(lines, cmds, st, 2);
	char *all = json_dumps(lines, 0);
	cr_assert_null(strstr(all, "hunter2"), "%s", all);
	cr_assert_str_eq(str_at(lines, 0, "user"), "alice");
	free(all);
	json_decref(lines);
}

Test(shell, a_command_running_at_free_is_recorded_unfinished)
{
	lt_start("exec sleep 300", "");
	devkit_shell_options o = shell_opts(NULL, "alice");
	term t;
	t_start(&t, &o);
	/* bash says it started the command before its output */
	t_type(&t, "echo started; sleep 30\r");
	t_until(&t, "started\r\n", 0);
	cr_assert_eq(devkit_shell_commands(t.s), 0);
	t_free(&t);
	json_t *lines = audit_lines();
	cr_assert_eq(json_array_size(lines), 1);
	cr_assert_str_eq(str_at(lines, 0, "command"), "echo started; sleep 30");
	cr_assert_eq(status_at(lines, 0), -1);
	cr_assert(json_is_null(json_object_get(json_array_get(lines, 0), "end_time")));
	time_ms(str_at(lines, 0, "time"));
	json_decref(lines);
}

/* --- a plain sh -------------------------------------------------------------------------- */

Test(shell, sh_records_the_lines_typed_at_its_prompt)
{
	lt_start("exec sleep 300", "");
	devkit_shell_options o = shell_opts("sh", "bob");
	o.container = LT_CONTAINER;
	term t;
	t_start(&t, &o);
	/* the first output is the prompt ("# " or "$ ") */
	for (int i = 0; i < 100 && (t.len == 0 || t.out[t.len - 1] != ' '); i++)
		t_settle(&t, 100);
	char prompt[64];
	snprintf(prompt, sizeof(prompt), "\r\n%s", t.out);
	cr_assert(t.len > 0 && t.len < 20, "prompt: %s", t.out);
	t_type(&t, "echo hello\r");
	t_until(&t, "hello\r\n", 1);
	t_type(&t, "false\r");
	t_until(&t, NULL, 2);
	/* Backspace, ^U and ^W as the terminal applies them */
	t_type(&t, "rm -rf nothing\025echo x-y\177z two  \027three\r");
	t_until(&t, "x-z three\r\n", 3);
	/* a command over two lines (PS2) */
	t_type(&t, "for i in 1 2\r");
	t_until(&t, "> ", 3);
	t_type(&t, "do echo n$i; done\r");
	t_until(&t, "n2\r\n", 4);
	/* an empty line is no command: wait for its prompt, typing before it
	 * would be typing ahead, which a plain sh's record does not see */
	size_t mark = t.len;
	t_type(&t, "\r");
	for (int i = 0; i < 300 && !strstr(t.out + mark, prompt); i++)
		t_settle(&t, 100);
	cr_assert(strstr(t.out + mark, prompt), "%s", t.out);
	t_type(&t, "exit 3\r");
	t_settle(&t, 30000);
	cr_assert(t.ended);
	int code = -1;
	cr_assert_eq(devkit_shell_wait(t.s, 10000, &code), 0, "%s", lt_err());
	cr_assert_eq(code, 3);
	no_markers(&t);
	t_free(&t);

	json_t *lines = audit_lines();
	static const char *const cmds[] = { "echo hello", "false", "echo x-z three",
		"for i in 1 2\ndo echo n$i; done", "exit 3" };
	static const int st[] = { 0, 1, 0, 0, 3 };
	expect_commands(lines, cmds, st, 5);
	cr_assert_str_eq(str_at(lines, 0, "user"), "bob");
	cr_assert_str_eq(str_at(lines, 0, "container"), LT_CONTAINER);
	json_decref(lines);
}

Test(shell, busybox_ash)
{
	lt_start("exec sleep 300", "");
	const char *bb = access("/usr/bin/busybox", X_OK) == 0 ? "/usr/bin/busybox" :
		access("/bin/busybox", X_OK) == 0 ? "/bin/busybox" : NULL;
	if (!bb)
		cr_skip_test("no busybox on this machine");
	/* busybox runs the applet its name says: ./ash in the container's
	 * directory, as /bin/ash in an Alpine image */
	char link[700];
	snprintf(link, sizeof(link), "%s/ash", lt_replica.dir);
	cr_assert_eq(symlink(bb, link), 0);
	devkit_shell_options o = shell_opts("./ash", "carol");
	term t;
	t_start(&t, &o);
	t_type(&t, "echo from-ash\r");
	t_until(&t, "from-ash\r\n", 1);
	t_type(&t, "false\r");
	t_until(&t, NULL, 2);
	t_type(&t, "exit 6\r");
	t_settle(&t, 30000);
	int code = -1;
	cr_assert_eq(devkit_shell_wait(t.s, 10000, &code), 0, "%s", lt_err());
	cr_assert_eq(code, 6);
	no_markers(&t);
	/* ash's line editor counted the prompt right: no \\[ or \\] shown */
	cr_assert_null(strstr(t.out, "\\["), "%s", t.out);
	t_free(&t);
	json_t *lines = audit_lines();
	static const char *const cmds[] = { "echo from-ash", "false", "exit 6" };
	static const int st[] = { 0, 1, 6 };
	expect_commands(lines, cmds, st, 3);
	json_decref(lines);
}

/* --- Events -------------------------------------------------------------------------------- */

/* The DevkitShellCommand Events' messages, '\n'-separated. */
static char *event_messages(void)
{
	fx_run_result r;
	cr_assert_eq(fx_k8s_get(&lt_api, "/api/v1/namespaces/" LT_NS "/events", &r), 200);
	json_t *list = json_loads(r.out, 0, NULL);
	cr_assert_not_null(list, "%s", r.out);
	fx_run_result_free(&r);
	char *all = calloc(1, 1);
	size_t len = 0, i;
	json_t *ev;
	json_array_foreach(json_object_get(list, "items"), i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "reason")) ?: "",
			"DevkitShellCommand") != 0)
			continue;
		json_t *io = json_object_get(ev, "involvedObject");
		cr_assert_str_eq(json_string_value(json_object_get(io, "kind")), "Pod");
		cr_assert_str_eq(json_string_value(json_object_get(io, "name")), LT_POD);
		cr_assert_str_eq(json_string_value(json_object_get(ev, "type")), "Normal");
		cr_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "source"),
			"component")), "devkit-shell");
		const char *m = json_string_value(json_object_get(ev, "message"));
		all = realloc(all, len + strlen(m) + 2);
		len += (size_t)sprintf(all + len, "%s\n", m);
	}
	json_decref(list);
	return all;
}

Test(shell, audit_events_on_the_pod_and_a_refusal_is_not_fatal)
{
	lt_start("exec sleep 300", "");
	devkit_shell_options o = shell_opts(NULL, "alice");
	o.audit_events = 1;
	term t;
	t_start(&t, &o);
	t_type(&t, "echo first-event\r");
	t_until(&t, "first-event\r\n", 1);
	t_type(&t, "exit 4\r");
	t_settle(&t, 30000);
	int code;
	cr_assert_eq(devkit_shell_wait(t.s, 10000, &code), 0, "%s", lt_err());
	t_free(&t);  /* waits for the Events in flight */
	char *msgs = event_messages();
	cr_assert(strstr(msgs, "alice ran: echo first-event (exit 0)\n"), "%s", msgs);
	cr_assert(strstr(msgs, "alice ran: exit 4 (exit 4)\n"), "%s", msgs);
	free(msgs);

	/* RBAC says no: the shell and the audit log go on */
	cr_assert_eq(fx_k8s_forbid(&lt_api, "create:events"), 0);
	t_start(&t, &o);
	t_type(&t, "echo still-here\r");
	t_until(&t, "still-here\r\n", 1);
	t_type(&t, "echo and-here\r");
	t_until(&t, "and-here\r\n", 2);
	t_free(&t);
	cr_assert_eq(fx_k8s_count_requests(&lt_api, "POST", "/events"), 4);
	msgs = event_messages();
	cr_assert_null(strstr(msgs, "still-here"), "%s", msgs);
	free(msgs);
	json_t *lines = audit_lines();
	cr_assert_eq(json_array_size(lines), 4);
	cr_assert_str_eq(str_at(lines, 3, "command"), "echo and-here");
	json_decref(lines);
}

/* --- failures ---------------------------------------------------------------------------------- */

Test(shell, an_audit_log_that_cannot_be_opened_stops_the_start)
{
	lt_start("exec sleep 300", "");
	devkit_shell_options o = shell_opts(NULL, NULL);
	o.audit_log = kt_path("no-such-dir/audit.log");
	devkit_shell *s = (devkit_shell *)1;
	int rc = devkit_shell_start(&s, lt_k8s, &o);
	cr_assert_eq(rc, DEVKIT_EIO, "rc %d: %s", rc, lt_err());
	cr_assert_null(s);
	cr_assert(strstr(lt_err(), "no-such-dir/audit.log") && strstr(lt_err(), "No such file"),
		"%s", lt_err());
	/* nothing ran */
	cr_assert_eq(fx_k8s_count_requests(&lt_api, NULL, "/exec"), 0);
}

Test(shell, a_missing_shell_or_pod_is_an_error)
{
	lt_start("exec sleep 300", "");
	devkit_shell_options o = shell_opts("no-such-shell", NULL);
	devkit_shell *s = NULL;
	int rc = devkit_shell_start(&s, lt_k8s, &o);
	cr_assert_eq(rc, DEVKIT_EUNSUPPORTED, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "no-such-shell") && strstr(lt_err(), "exit status 127"), "%s",
		lt_err());
	cr_assert_null(s);
	o = shell_opts(NULL, NULL);
	o.pod = "nope";
	rc = devkit_shell_start(&s, lt_k8s, &o);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "\"nope\" not found"), "%s", lt_err());
	o.pod = LT_POD;
	o.shell = "bash; id";
	cr_assert_eq(devkit_shell_start(&s, lt_k8s, &o), DEVKIT_EINVAL);
	devkit_shell_free(NULL);
	cr_assert_eq(devkit_shell_commands(NULL), 0);
}

/* --- the CLI ----------------------------------------------------------------------------------- */

static const char *cli_path(void)
{
	static char path[4096];
	const char *dir = getenv("DEVKIT_BUILD_DIR");
	snprintf(path, sizeof(path), "%s/bin/devkit", dir && *dir ? dir : "build");
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

Test(shell, cli_with_stdin_a_pipe)
{
	lt_start("exec sleep 300", "");
	const char *argv[] = { cli_path(), "shell", LT_POD, "-n", LT_NS, "-c", LT_CONTAINER,
		"--audit-log", audit_path(), "--kubeconfig",
		fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN), NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, "echo from-a-pipe\nfalse\nexit 5\n", 60000, &r), 0);
	cr_log_info("devkit shell -> %d\nstdout: %s\nstderr: %s", r.exit_code, r.out, r.err);
	cr_assert(!r.timed_out, "%s", r.err);
	/* the shell's exit status is the command's */
	cr_assert_eq(r.exit_code, 5, "stderr: %s", r.err);
	cr_assert(strstr(r.out, "from-a-pipe"), "%s", r.out);
	cr_assert_null(strstr(r.out, "6973;"), "%s", r.out);
	fx_run_result_free(&r);
	json_t *lines = audit_lines();
	static const char *const cmds[] = { "echo from-a-pipe", "false", "exit 5" };
	static const int st[] = { 0, 1, 5 };
	expect_commands(lines, cmds, st, 3);
	json_decref(lines);

	/* an audit log that cannot be opened: exit 1, nothing runs */
	const char *bad[] = { cli_path(), "shell", LT_POD, "--audit-log",
		kt_path("no-such-dir/a.log"), "--kubeconfig",
		fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN), NULL };
	int before = fx_k8s_count_requests(&lt_api, NULL, "/exec");
	cr_assert_eq(fx_run(bad, NULL, "echo no\n", 60000, &r), 0);
	cr_assert_eq(r.exit_code, 1, "%s", r.err);
	cr_assert(strstr(r.err, "no-such-dir/a.log"), "%s", r.err);
	cr_assert_eq(fx_k8s_count_requests(&lt_api, NULL, "/exec"), before);
	fx_run_result_free(&r);
}

Test(shell, a_command_the_history_did_not_keep_has_no_text)
{
	lt_start("exec sleep 300", "");
	devkit_shell_options o = shell_opts("bash", "alice");
	term t;
	t_start(&t, &o);
	t_type(&t, "set +o history\r");
	t_until(&t, NULL, 1);
	t_type(&t, "echo off-the-record\r");
	t_until(&t, "off-the-record\r\n", 2);
	t_free(&t);
	json_t *lines = audit_lines();
	cr_assert_eq(json_array_size(lines), 2);
	cr_assert_str_eq(str_at(lines, 0, "command"), "set +o history");
	/* something ran, its exit status is known, its text is not */
	cr_assert(json_is_null(json_object_get(json_array_get(lines, 1), "command")));
	cr_assert_eq(status_at(lines, 1), 0);
	json_decref(lines);
}
