/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_arthas_run / devkit_arthas_start with the real Arthas (Maven
 * Central's arthas-packaging 4.1.5 bin zip, fetched by
 * tests/fixtures/arthas/build.sh) attached to a real JVM: a small program
 * compiled here with javac and run as the app of a replica whose keep-alive
 * really runs (live_test.h). The exec sessions run on this machine, so the
 * attach is a real HotSpot attach. Each attach takes a second or two: the
 * tests attach three times in all.
 */
#include "live_test.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char zip_path[600];
static char classes[600];

/* The replica fixture's stop gives the keep-alive 5 s to stop the app
 * before it kills the keep-alive alone; a JVM slow to exit would outlive
 * the test, with its Arthas still listening. Kill ours (their class path is
 * this test's directory) first. */
static void arthas_teardown(void)
{
	if (classes[0]) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char path[300], cmd[4096];
			snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
			FILE *f = de->d_name[0] >= '1' && de->d_name[0] <= '9' ? fopen(path, "rb") : NULL;
			if (!f)
				continue;
			size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
			fclose(f);
			for (size_t i = 0; i < n; i++)
				if (!cmd[i])
					cmd[i] = ' ';
			cmd[n] = '\0';
			if (strstr(cmd, classes) && strstr(cmd, "demo.Main"))
				kill((pid_t)atoi(de->d_name), SIGKILL);
		}
		if (d)
			closedir(d);
		classes[0] = '\0';
	}
	lt_teardown();
}

TestSuite(arthas, .init = lt_setup, .fini = arthas_teardown, .timeout = 300);

/* The fixture zip, or the test fails saying how to get it. */
static const char *arthas_zip(void)
{
	char dir[512], tried[2048];
	cr_assert_eq(fx_fixtures_dir("arthas/arthas-bin.zip", dir, sizeof(dir), tried,
		sizeof(tried)), 0, "no Arthas zip (bash scripts/build_fixtures.sh fetches it); "
		"looked in: %s", tried);
	snprintf(zip_path, sizeof(zip_path), "%s/arthas/arthas-bin.zip", dir);
	return zip_path;
}

/* demo.Main calls demo.Greeter.greet five times a second and prints what
 * it says; compiled into kt_dir/classes. Returns the class path. */
static const char *demo_classes(void)
{
	kt_write("src/demo/Greeter.java",
		"package demo;\n"
		"public class Greeter {\n"
		"\tpublic String greet(String who) { return \"hello \" + who; }\n"
		"}\n");
	kt_write("src/demo/Main.java",
		"package demo;\n"
		"public class Main {\n"
		"\tpublic static void main(String[] args) throws Exception {\n"
		"\t\tGreeter g = new Greeter();\n"
		"\t\tfor (int i = 0; ; i++) {\n"
		"\t\t\tString s = g.greet(\"visitor \" + i);\n"
		"\t\t\tif (i %% 25 == 0) System.out.println(s);\n"
		"\t\t\tThread.sleep(200);\n"
		"\t\t}\n"
		"\t}\n"
		"}\n");
	snprintf(classes, sizeof(classes), "%s", kt_path("classes"));
	const char *argv[] = { "javac", "-d", classes, kt_path("src/demo/Greeter.java"),
		kt_path("src/demo/Main.java"), NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 120000, &r), 0, "cannot run javac");
	cr_assert_eq(r.exit_code, 0, "javac: %s", r.err);
	fx_run_result_free(&r);
	return classes;
}

/* Start the replica with `app` (%s: the class path) and wait until the JVM
 * has said hello `hellos` times (each JVM says it once at its start). */
static void start_app(const char *app, int hellos)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), app, demo_classes(), demo_classes());
	lt_start(cmd, "");
	for (int i = 0; i < 600; i++) {
		char *log = lt_read_file("app.log");
		int n = 0;
		for (const char *p = log; p && (p = strstr(p, "hello visitor 0")); p++)
			n++;
		free(log);
		if (n >= hellos)
			return;
		usleep(100 * 1000);
	}
	char *log = lt_read_file("app.log");
	cr_assert_fail("the JVM did not start: %s", log ? log : "(no log)");
}

static void options(devkit_arthas_options *o, const char *command)
{
	devkit_arthas_options_init(o, DEVKIT_ARTHAS_OPTIONS_VERSION);
	o->pod = LT_POD;
	o->package = arthas_zip();
	o->command = command;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void has(const char *text, const char *needle)
{
	cr_assert(text && strstr(text, needle), "\"%s\" is not in:\n%s", needle,
		text ? text : "(null)");
}

/* Exec sessions the API fixture saw: all of them, and those that received
 * the zip (a `head -c SIZE` of stdin). */
static void count_sessions(int *all, int *copies)
{
	fx_run_result r;
	cr_assert_eq(fx_k8s_stream_sessions(&lt_api, &r), 0);
	json_t *j = json_loads(r.out, 0, NULL);
	cr_assert(j, "not JSON: %s", r.out);
	fx_run_result_free(&r);
	*all = *copies = 0;
	struct stat st;
	cr_assert_eq(stat(arthas_zip(), &st), 0);
	char needle[64];
	snprintf(needle, sizeof(needle), "head -c %lld ", (long long)st.st_size);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(j, "items"), i, s) {
		if (strcmp(json_string_value(json_object_get(s, "kind")), "exec") != 0)
			continue;
		(*all)++;
		json_t *argv = json_object_get(s, "command"), *arg;
		size_t k;
		json_array_foreach(argv, k, arg)
			if (strstr(json_string_value(arg), needle))
				(*copies)++;
	}
	json_decref(j);
}

/* The unpacked Arthas in the container: DEVKIT_DIR/arthas/zip-<hash>. */
static void assert_unpacked_once(void)
{
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/arthas", lt_replica.devkit_dir);
	DIR *d = opendir(dir);
	cr_assert(d, "no %s", dir);
	int homes = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "zip-", 4) != 0)
			continue;
		size_t len = strlen(de->d_name);
		cr_assert(len < 4 || strcmp(de->d_name + len - 4, ".zip") != 0,
			"the zip was left behind: %s/%s", dir, de->d_name);
		homes++;
		char path[1200];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s/arthas-boot.jar", dir, de->d_name);
		cr_assert_eq(stat(path, &st), 0, "no %s", path);
		snprintf(path, sizeof(path), "%s/%s/.devkit-arthas", dir, de->d_name);
		cr_assert_eq(stat(path, &st), 0, "no marker %s", path);
	}
	closedir(d);
	cr_assert_eq(homes, 1, "%d copies of Arthas in %s", homes, dir);
}

Test(arthas, run_commands_and_copy_the_package_once)
{
	/* not exec'd: the keep-alive's app is a sh whose child is the JVM */
	start_app("java -cp %s demo.Main; echo the JVM ended", 1);
	devkit_arthas_options o;
	options(&o, "sc demo.*");
	devkit_buf out = DEVKIT_BUF_INIT;
	int code = -1;
	long long t0 = now_ms();
	cr_assert_eq(devkit_arthas_run(lt_k8s, &o, &out, &code), 0, "%s", lt_err());
	cr_log_info("sc demo.* (copy, attach, run: %lld ms):\n%s", now_ms() - t0, out.ptr);
	cr_assert_eq(code, 0, "exit code %d:\n%s", code, out.ptr);
	has(out.ptr, "demo.Greeter\n");
	has(out.ptr, "demo.Main\n");
	has(out.ptr, "Affect(row-cnt:2)");
	/* what the user asked for, not arthas-boot's progress or the banner */
	cr_assert(strncmp(out.ptr, "[arthas@", 8) == 0, "output starts with:\n%s", out.ptr);
	cr_assert_null(strstr(out.ptr, "[INFO]"), "%s", out.ptr);
	cr_assert_null(strstr(out.ptr, "\r"), "CRLF left in the output");
	devkit_buf_dispose(&out);
	int all, copies;
	count_sessions(&all, &copies);
	cr_assert_eq(copies, 1, "the package was sent %d times", copies);
	assert_unpacked_once();
	int first_all = all;

	/* The second call finds the package and the running Arthas server:
	 * nothing is sent again. watch sees the live calls of greet. */
	options(&o, "version; watch demo.Greeter greet returnObj -n 1");
	t0 = now_ms();
	cr_assert_eq(devkit_arthas_run(lt_k8s, &o, &out, &code), 0, "%s", lt_err());
	cr_log_info("version; watch (run: %lld ms):\n%s", now_ms() - t0, out.ptr);
	cr_assert_eq(code, 0, "exit code %d:\n%s", code, out.ptr);
	has(out.ptr, "4.1.5\n");
	has(out.ptr, "method=demo.Greeter.greet location=AtExit");
	has(out.ptr, "@String[hello visitor ");
	devkit_buf_dispose(&out);
	count_sessions(&all, &copies);
	cr_assert_eq(copies, 1, "the package was sent again");
	cr_assert_eq(all, first_all + 2, "%d exec sessions for the second call (look, run)",
		all - first_all);
	assert_unpacked_once();

	/* A watch without -n never ends by itself: the call's timeout ends it,
	 * and Arthas answers the next call as before. */
	options(&o, "watch demo.Greeter greet returnObj");
	o.timeout_ms = 4000;
	int rc = devkit_arthas_run(lt_k8s, &o, &out, &code);
	cr_assert_eq(rc, DEVKIT_ETIMEOUT, "rc %d: %s", rc, lt_err());
	has(lt_err(), "running Arthas in " LT_NS "/" LT_POD ": not done within the call's 4000 ms");
	has(lt_err(), "; the last it printed: ");
	cr_log_info("timeout: %s", lt_err());
	cr_assert_null(out.ptr);

	/* a command Arthas does not know: its words, as the console says them */
	options(&o, "no-such-command");
	cr_assert_eq(devkit_arthas_run(lt_k8s, &o, &out, &code), 0, "%s", lt_err());
	cr_log_info("no-such-command (exit %d):\n%s", code, out.ptr);
	cr_assert(code != 0 || strstr(out.ptr, "no-such-command: command not found"),
		"exit %d:\n%s", code, out.ptr);
	devkit_buf_dispose(&out);
}

Test(arthas, missing_package_and_missing_jvm)
{
	start_app("exec sleep 300", 0);
	devkit_arthas_options o;
	options(&o, "version");
	o.package = NULL;
	devkit_buf out = DEVKIT_BUF_INIT;
	int code = 7;
	cr_assert_eq(devkit_arthas_run(lt_k8s, &o, &out, &code), DEVKIT_EINVAL);
	has(lt_err(), "no Arthas package");
	cr_assert_null(out.ptr);
	cr_assert_eq(code, -1);
	o.package = "/nonexistent/arthas-bin.zip";
	cr_assert_eq(devkit_arthas_run(lt_k8s, &o, &out, &code), DEVKIT_EINVAL);
	has(lt_err(), "/nonexistent/arthas-bin.zip");
	o.package = kt_path("src");
	cr_assert_eq(devkit_arthas_run(lt_k8s, &o, &out, &code), DEVKIT_EINVAL);
	has(lt_err(), "has no arthas-boot.jar: not the directory arthas-bin.zip unpacks to");
	options(&o, "");
	cr_assert_eq(devkit_arthas_run(lt_k8s, &o, &out, &code), DEVKIT_EINVAL);
	has(lt_err(), "no Arthas command");

	/* the app is not a JVM: found out before anything is copied */
	options(&o, "version");
	int rc = devkit_arthas_run(lt_k8s, &o, &out, &code);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "rc %d: %s", rc, lt_err());
	has(lt_err(), "is not a JVM and started none");
	has(lt_err(), "(sleep 300)");
	has(lt_err(), LT_NS "/" LT_POD);
	int all, copies;
	count_sessions(&all, &copies);
	cr_assert_eq(copies, 0);

	o.pid = 999999;
	rc = devkit_arthas_run(lt_k8s, &o, &out, &code);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "rc %d: %s", rc, lt_err());
	has(lt_err(), "no process 999999");
	devkit_exec *e = NULL;
	cr_assert_eq(devkit_arthas_start(&e, lt_k8s, &o), DEVKIT_ENOTFOUND);
	cr_assert_null(e);
}

/* "123 (java ...), 456 (java ...)": the first pid of the list. */
static int first_pid(const char *msg)
{
	const char *p = strstr(msg, "give the pid of one: ");
	cr_assert(p, "%s", msg);
	return atoi(p + strlen("give the pid of one: "));
}

Test(arthas, several_jvms_need_a_pid)
{
	start_app("java -cp %s demo.Main & java -cp %s demo.Main; wait", 2);
	devkit_arthas_options o;
	options(&o, "sc demo.Greeter");
	devkit_buf out = DEVKIT_BUF_INIT;
	int code;
	int rc = devkit_arthas_run(lt_k8s, &o, &out, &code);
	cr_assert_eq(rc, DEVKIT_EINVAL, "rc %d: %s", rc, lt_err());
	has(lt_err(), "2 JVMs in the app's processes");
	has(lt_err(), "demo.Main), ");
	o.pid = first_pid(lt_err());

	o.java = "/nonexistent/bin/java";
	rc = devkit_arthas_run(lt_k8s, &o, &out, &code);
	cr_assert_eq(rc, DEVKIT_EUNSUPPORTED, "rc %d: %s", rc, lt_err());
	has(lt_err(), "java '/nonexistent/bin/java' is not in the container");

	/* a zip that is not Arthas's */
	o.java = "java";
	kt_write("not-arthas/readme.txt", "hello\n");
	const char *zip_argv[] = { "python3", "-m", "zipfile", "-c", kt_path("not-arthas.zip"),
		kt_path("not-arthas/readme.txt"), NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(zip_argv, NULL, NULL, 60000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	fx_run_result_free(&r);
	o.package = kt_path("not-arthas.zip");
	rc = devkit_arthas_run(lt_k8s, &o, &out, &code);
	cr_assert_eq(rc, DEVKIT_EINVAL, "rc %d: %s", rc, lt_err());
	has(lt_err(), "it is not Arthas's arthas-bin.zip");

	/* the unpacked directory, copied with devkit_deploy */
	char *dir = strdup(kt_path("arthas-unpacked"));
	const char *unzip_argv[] = { "python3", "-m", "zipfile", "-e", arthas_zip(), dir, NULL };
	cr_assert_eq(fx_run(unzip_argv, NULL, NULL, 60000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	fx_run_result_free(&r);
	o.package = dir;
	cr_assert_eq(devkit_arthas_run(lt_k8s, &o, &out, &code), 0, "%s", lt_err());
	cr_assert_eq(code, 0, "%s", out.ptr);
	char prompt[64];
	snprintf(prompt, sizeof(prompt), "[arthas@%d]$ sc demo.Greeter\ndemo.Greeter\n", o.pid);
	has(out.ptr, prompt);
	devkit_buf_dispose(&out);
	free(dir);
}

/* The console's output so far. */
typedef struct console {
	char text[256 * 1024];
	size_t len;
} console;

/* Read the console until `needle` shows (or 60 s): 1, or 0 once it ended. */
static int read_until(devkit_exec *e, console *c, const char *needle)
{
	for (int i = 0; i < 600 && !strstr(c->text, needle); i++) {
		devkit_buf b = DEVKIT_BUF_INIT;
		int stream;
		int n = devkit_exec_read(e, &stream, &b, 100);
		if (n == DEVKIT_ETIMEOUT)
			continue;
		cr_assert(n >= 0, "console: %s", lt_err());
		if (n == 0)
			return 0;
		size_t room = sizeof(c->text) - 1 - c->len;
		size_t k = b.size < room ? b.size : room;
		memcpy(c->text + c->len, b.ptr, k);
		c->len += k;
		c->text[c->len] = '\0';
		devkit_buf_dispose(&b);
	}
	return strstr(c->text, needle) != NULL;
}

Test(arthas, interactive_console)
{
	start_app("exec java -cp %s demo.Main", 1);
	devkit_arthas_options o;
	options(&o, NULL);
	devkit_exec *e = NULL;
	cr_assert_eq(devkit_arthas_start(&e, lt_k8s, &o), 0, "%s", lt_err());
	cr_assert_eq(devkit_exec_resize(e, 120, 40), 0, "%s", lt_err());
	static console c;
	c.len = 0;
	c.text[0] = '\0';
	cr_assert(read_until(e, &c, "]$ "), "no prompt:\n%s", c.text);
	/* what a terminal sends for Enter */
	cr_assert_eq(devkit_exec_write(e, "sc demo.*\r", 10), 0, "%s", lt_err());
	cr_assert(read_until(e, &c, "Affect(row-cnt:2)"), "no answer:\n%s", c.text);
	has(c.text, "demo.Greeter");
	cr_assert_eq(devkit_exec_write(e, "stop\r", 5), 0, "%s", lt_err());
	cr_assert_eq(read_until(e, &c, "\x01never\x01"), 0, "the console did not end:\n%s",
		c.text);
	int code = -1;
	cr_assert_eq(devkit_exec_wait(e, 30000, &code), 0, "%s", lt_err());
	cr_log_info("console (exit %d):\n%s", code, c.text);
	cr_assert_eq(code, 0);
	devkit_exec_free(e);
}

/* --- the CLI ----------------------------------------------------------------------- */

/* <this test's build>/bin/devkit: the CLI built with this test. */
static const char *cli_path(void)
{
	static char path[4096];
	char exe[4000];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0);
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	cr_assert(slash);
	*slash = '\0'; /* <build>/tests */
	snprintf(path, sizeof(path), "%s/../bin/devkit", exe);
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

/* devkit arthas ARGS --kubeconfig K, with stdin_data on stdin. */
static void run_cli(const char *const args[], const char *stdin_data, fx_run_result *r)
{
	const char *argv[32];
	int n = 0;
	argv[n++] = cli_path();
	argv[n++] = "arthas";
	for (int i = 0; args[i] && n < 28; i++)
		argv[n++] = args[i];
	argv[n++] = "--kubeconfig";
	argv[n++] = fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN);
	argv[n] = NULL;
	static const char *const env[] = { "http_proxy=", "https_proxy=", "HTTP_PROXY=",
		"HTTPS_PROXY=", "ALL_PROXY=", "NO_PROXY=", NULL };
	cr_assert_eq(fx_run(argv, env, stdin_data, 120000, r), 0, "cannot run devkit");
	cr_assert(!r->timed_out, "devkit arthas did not end in time; stdout: %s\nstderr: %s", r->out,
		r->err);
	cr_log_info("devkit arthas %s -> exit %d\nstdout: %s\nstderr: %s", args[0], r->exit_code,
		r->out, r->err);
}

/* Drive `devkit arthas` on a pseudo-terminal as a person would: a 100x30
 * window, a command typed with Enter (\r, which only raw mode passes on as
 * is), the window resized (SIGWINCH), quit. Prints the output and whether
 * the terminal's modes were given back; exits with devkit's status. */
static const char pty_driver[] =
	"import fcntl, os, select, struct, subprocess, sys, termios, time\n"
	"m, s = os.openpty()\n"
	"def size(fd, c, r): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))\n"
	"size(s, 100, 30)\n"
	"before = termios.tcgetattr(s)\n"
	"def ctty(): fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
	"p = subprocess.Popen(sys.argv[1:], stdin=s, stdout=s, stderr=s, start_new_session=True,\n"
	"                     preexec_fn=ctty)\n"
	"out = b''\n"
	"def until(what, secs=60):\n"
	"    global out\n"
	"    end = time.time() + secs\n"
	"    while what not in out and time.time() < end:\n"
	"        r, _, _ = select.select([m], [], [], 0.2)\n"
	"        if r:\n"
	"            try: out += os.read(m, 65536)\n"
	"            except OSError: break\n"
	"    return what in out\n"
	"ok = until(b']$ ')\n"
	"os.write(m, b'sc demo.Greeter\\r')\n"
	"ok = ok and until(b'Affect(row-cnt:1)')\n"
	"size(m, 132, 50)\n"
	"time.sleep(1)\n"
	"os.write(m, b'quit\\r')\n"
	"try: code = p.wait(60)\n"
	"except subprocess.TimeoutExpired: p.kill(); code = 99\n"
	"until(b'\\x00never', 1)\n"
	"after = termios.tcgetattr(s)\n"
	"sys.stdout.write(out.decode('utf-8', 'replace'))\n"
	"sys.stdout.write('\\nmodes %s\\n' % ('restored' if before == after else 'changed'))\n"
	"sys.exit(code if ok else 98)\n";

static void console_on_a_terminal(void)
{
	kt_write("pty_driver.py", "%s", pty_driver);
	const char *argv[] = { "python3", kt_path("pty_driver.py"), cli_path(), "arthas", LT_POD,
		"--package", arthas_zip(), "--kubeconfig",
		fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN), NULL };
	static const char *const env[] = { "http_proxy=", "https_proxy=", "HTTP_PROXY=",
		"HTTPS_PROXY=", "ALL_PROXY=", "NO_PROXY=", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, env, NULL, 180000, &r), 0);
	cr_log_info("on a terminal -> exit %d\n%s\n%s", r.exit_code, r.out, r.err);
	cr_assert_eq(r.exit_code, 0, "exit %d:\n%s\n%s", r.exit_code, r.out, r.err);
	has(r.out, "]$ sc demo.Greeter");
	has(r.out, "Affect(row-cnt:1)");
	has(r.out, "\nmodes restored\n");
	fx_run_result_free(&r);

	/* the remote terminal got the window's size, then the new one */
	cr_assert_eq(fx_k8s_stream_sessions(&lt_api, &r), 0);
	json_t *j = json_loads(r.out, 0, NULL);
	cr_assert(j, "not JSON: %s", r.out);
	fx_run_result_free(&r);
	json_t *resizes = NULL, *sess;
	size_t i;
	json_array_foreach(json_object_get(j, "items"), i, sess)
		if (json_is_true(json_object_get(sess, "tty")))
			resizes = json_object_get(sess, "resizes");
	char *text = resizes ? json_dumps(resizes, JSON_COMPACT) : NULL;
	has(text, "{\"Width\":100,\"Height\":30}");
	has(text, "{\"Width\":132,\"Height\":50}");
	cr_assert(strstr(text, "100") < strstr(text, "132"), "%s", text);
	free(text);
	json_decref(j);
}

Test(arthas, cli_command_and_console)
{
	start_app("exec java -cp %s demo.Main", 1);
	fx_run_result r;
	run_cli((const char *const[]){ LT_POD, "-n", LT_NS, "--package", arthas_zip(), "-e",
		"sc demo.*", NULL }, NULL, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	has(r.out, "]$ sc demo.*\ndemo.Greeter\ndemo.Main\n");
	fx_run_result_free(&r);

	/* the console, fed from a pipe: each line as typed */
	run_cli((const char *const[]){ LT_POD, "--package", arthas_zip(), NULL },
		"sc -d demo.Greeter\nquit\n", &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	has(r.out, "]$ sc -d demo.Greeter");
	has(r.out, "/classes/"); /* code-source */
	has(r.out, "Affect(row-cnt:1)");
	has(r.out, "Session has been terminated");
	fx_run_result_free(&r);

	/* on a terminal: raw mode, its size, given back at the end */
	console_on_a_terminal();

	/* mistakes are usage errors, before any request */
	run_cli((const char *const[]){ LT_POD, NULL }, NULL, &r);
	cr_assert_eq(r.exit_code, 2);
	has(r.err, "--package is required");
	fx_run_result_free(&r);
	run_cli((const char *const[]){ LT_POD, "--package", arthas_zip(), "--pid", "x", NULL }, NULL,
		&r);
	cr_assert_eq(r.exit_code, 2);
	has(r.err, "--pid: 'x' is not a process id");
	fx_run_result_free(&r);

	/* the library's error, in one line */
	run_cli((const char *const[]){ LT_POD, "--package", arthas_zip(), "--pid", "999999", "-e",
		"version", NULL }, NULL, &r);
	cr_assert_eq(r.exit_code, 1);
	has(r.err, "devkit: arthas: looking for the JVM in dev/web-dev: no process 999999 in the "
		"container\n");
	fx_run_result_free(&r);
}
