/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_debug against a real JVM (the JDK on this machine) run by the
 * replica's real keep-alive (replica_sandbox.h): the test compiles a small
 * Java program into the container's sandbox, turns the debug agent on,
 * and talks JDWP to it through the local forward -- through the API
 * server's port-forward, and through a real sshd bastion to the Pod IP
 * (127.0.0.1 in the API fixture). Each test uses a free port for JDWP, as
 * the JVM listens on this machine.
 */
#include "live_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "sshd_fixture.h"

static devkit_debug *dbg;
static devkit_tunnel *tunnel;
static fx_sshd sshd;
static fx_daemon cli_proc;

static void teardown(void)
{
	fx_daemon_stop(&cli_proc);
	devkit_debug_free(dbg);
	dbg = NULL;
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	lt_teardown();
	fx_sshd_stop(&sshd);
}

TestSuite(debug, .init = lt_setup, .fini = teardown, .timeout = 240);

/* Prints "tick N" every 100 ms: output tells whether main runs. */
static const char hello_java[] =
	"public class Hello {\n"
	"  public static void main(String[] a) throws Exception {\n"
	"    for (int i = 0;; i++) { System.out.println(\"tick \" + i); Thread.sleep(100); }\n"
	"  }\n"
	"}\n";

/* The app waits for its class, so the test can compile it after lt_start
 * (which makes the sandbox): javac writes into a directory of its own and
 * the class is renamed into place whole. */
#define HELLO_APP "while [ ! -f Hello.class ]; do sleep 0.1; done; exec java -cp . Hello"

static void compile_hello(void)
{
	char src[700], out[700], from[800], to[800];
	snprintf(src, sizeof(src), "%s/Hello.java", lt_replica.dir);
	snprintf(out, sizeof(out), "%s/javac-out", lt_replica.dir);
	FILE *f = fopen(src, "w");
	cr_assert_not_null(f);
	fputs(hello_java, f);
	fclose(f);
	const char *argv[] = { "javac", "-d", out, src, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 60000, &r), 0, "cannot run javac");
	cr_assert_eq(r.exit_code, 0, "javac: %s", r.err);
	fx_run_result_free(&r);
	snprintf(from, sizeof(from), "%s/Hello.class", out);
	snprintf(to, sizeof(to), "%s/Hello.class", lt_replica.dir);
	cr_assert_eq(rename(from, to), 0);
}

static char *app_log(void)
{
	char *log = lt_read_file("app.log");
	return log ? log : strdup("");
}

/* The last occurrence of needle in s, or NULL. */
static const char *last_of(const char *s, const char *needle)
{
	const char *last = NULL;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		last = p;
	return last;
}

/* Wait until the log shows `needle` after the last `after` (NULL: anywhere). */
static int log_shows(const char *after, const char *needle, int timeout_ms)
{
	long long end = fx_now_ms() + timeout_ms;
	do {
		char *log = app_log();
		const char *from = after ? last_of(log, after) : log;
		int found = from && strstr(from, needle);
		free(log);
		if (found)
			return 1;
		fx_sleep_ms(100);
	} while (fx_now_ms() < end);
	return 0;
}

static long app_pid(void)
{
	char state[200];
	const char *s = fx_replica_state(&lt_replica, state, sizeof(state));
	return strncmp(s, "running pid ", 12) == 0 ? strtol(s + 12, NULL, 10) : -1;
}

/* Start the app and wait for it to tick without the agent. */
static void start_hello(void)
{
	lt_start(HELLO_APP, "");
	compile_hello();
	cr_assert(log_shows(NULL, "tick 1\n", 30000), "the JVM did not start: %s", app_log());
}

static void debug_opts(devkit_debug_options *o, int port)
{
	cr_assert_eq(devkit_debug_options_init(o, DEVKIT_DEBUG_OPTIONS_VERSION), 0);
	o->pod = LT_POD;
	o->port = port;
	/* the JVM listens on this machine's port, so the local one must differ */
	o->local_port = -1;
	o->timeout_ms = 60000;
}

/* devkit_debug_start on a free JDWP port. The port was free when
 * fx_free_port looked, but other tests run in parallel: when another
 * process took it before the JVM could, the JVM exits ("bind failed") and
 * another port is tried. */
static void start_on_free_port(devkit_debug_options *o)
{
	for (int tries = 0;; tries++) {
		int rc = devkit_debug_start(&dbg, lt_k8s, o);
		if (rc == 0)
			return;
		cr_assert(tries < 3 && rc == DEVKIT_EIO && strstr(lt_err(), "bind failed"), "rc %d: %s",
			rc, lt_err());
		o->port = fx_free_port();
	}
}

/* --- a JDWP client ---------------------------------------------------------------- */

/* Connect and handshake. The agent stops listening while a debugger is
 * attached and listens again a few ms after it left: with `retry`, a
 * refused or closed connection is tried again for a while (as a person
 * would press "Debug" again); without, the first try must work. */
static int jdwp_connect(int port, int retry)
{
	long long end = fx_now_ms() + (retry ? 5000 : 0);
	for (;;) {
		int fd = fx_connect_tcp("127.0.0.1", port);
		char back[15] = "";
		ssize_t n = -1;
		if (fd >= 0 && fx_write_all(fd, "JDWP-Handshake", 14) == 0)
			n = fx_read_full(fd, back, 14, 10000);
		if (n == 14) {
			cr_assert_str_eq(back, "JDWP-Handshake");
			return fd;
		}
		int err = errno;
		if (fd >= 0)
			close(fd);
		cr_assert(fx_now_ms() < end, "no JDWP handshake through 127.0.0.1:%d (%s, read %zd: "
			"%s)", port, fd < 0 ? "connect failed" : "connected", n, strerror(err));
		fx_sleep_ms(50);
	}
}

/* Whether a JDWP handshake on port is answered (1) or not (0). */
static int jdwp_answers(int port)
{
	int fd = fx_connect_tcp("127.0.0.1", port);
	if (fd < 0)
		return 0;
	char back[15] = "";
	int ok = fx_write_all(fd, "JDWP-Handshake", 14) == 0 &&
		fx_read_full(fd, back, 14, 3000) == 14 && strcmp(back, "JDWP-Handshake") == 0;
	close(fd);
	return ok;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Send command (set, cmd) without data and read the reply's data into a
 * new buffer (*len bytes). Asserts the reply has no error. */
static unsigned char *jdwp_command(int fd, uint32_t id, int set, int cmd, uint32_t *len)
{
	unsigned char pkt[11] = { 0, 0, 0, 11, (unsigned char)(id >> 24), (unsigned char)(id >> 16),
		(unsigned char)(id >> 8), (unsigned char)id, 0, (unsigned char)set, (unsigned char)cmd };
	cr_assert_eq(fx_write_all(fd, pkt, sizeof(pkt)), 0);
	unsigned char head[11];
	uint32_t n;
	for (;;) {
		cr_assert_eq(fx_read_full(fd, head, 11, 10000), 11, "no JDWP reply to (%d,%d)", set,
			cmd);
		n = be32(head);
		cr_assert(n >= 11 && n < 1u << 20, "packet length %u", n);
		if (head[8] == 0x80)
			break;
		/* a command from the VM (with suspend=y: the VMStart event) */
		unsigned char skip[4096];
		cr_assert_leq(n - 11, sizeof(skip));
		cr_assert_eq(fx_read_full(fd, skip, n - 11, 10000), (ssize_t)(n - 11));
	}
	cr_assert_eq(be32(head + 4), id, "reply to another packet");
	cr_assert_eq(head[9] << 8 | head[10], 0, "JDWP error code %d", head[9] << 8 | head[10]);
	*len = n - 11;
	unsigned char *data = malloc(*len + 1);
	cr_assert_eq(fx_read_full(fd, data, *len, 10000), (ssize_t)*len);
	data[*len] = 0;
	return data;
}

/* VirtualMachine.Version (1,1): description, jdwpMajor, jdwpMinor,
 * vmVersion, vmName. Asserts it names Java and a VM. */
static void jdwp_check_version(int port, int retry)
{
	int fd = jdwp_connect(port, retry);
	uint32_t len;
	unsigned char *d = jdwp_command(fd, 1, 1, 1, &len);
	cr_assert_geq(len, 4);
	uint32_t dl = be32(d);
	cr_assert_leq(4 + dl + 8 + 4, len);
	char desc[512];
	snprintf(desc, sizeof(desc), "%.*s", (int)dl, (const char *)d + 4);
	const unsigned char *p = d + 4 + dl + 8;
	uint32_t vl = be32(p);
	cr_assert_leq((size_t)(p + 4 + vl + 4 - d), len);
	const unsigned char *q = p + 4 + vl;
	uint32_t nl = be32(q);
	char vm[256];
	snprintf(vm, sizeof(vm), "%.*s", (int)nl, (const char *)q + 4);
	cr_log_info("JDWP VirtualMachine.Version: %s / %s", desc, vm);
	cr_assert(strstr(desc, "Java Debug Wire Protocol") && strstr(vm, "VM"),
		"description \"%s\", vm \"%s\"", desc, vm);
	free(d);
	close(fd);
}

static char *app_env(void)
{
	char *s = lt_read_file("devkit/app.env");
	return s;
}

static void write_app_env(const char *text)
{
	char path[800];
	snprintf(path, sizeof(path), "%s/app.env", lt_replica.devkit_dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* --- through the API server -------------------------------------------------------- */

Test(debug, jdwp_through_the_api_server_then_off)
{
	start_hello();
	write_app_env("export GREETING='kept'\n");
	long before = app_pid();
	int port = fx_free_port();
	devkit_debug_options o;
	debug_opts(&o, port);
	long long t0 = fx_now_ms();
	start_on_free_port(&o);
	port = o.port;
	long long took = fx_now_ms() - t0;
	fprintf(stderr, "timing: devkit_debug_start to JDWP handshake ready (API server): %lld ms\n", took);
	int local = devkit_debug_port(dbg);
	cr_assert(local > 0 && local != port, "local port %d", local);
	cr_assert_neq(app_pid(), before, "the app must have been restarted");
	char listening[128];
	snprintf(listening, sizeof(listening), "Listening for transport dt_socket at address: %d",
		port);
	char *log = app_log();
	cr_assert(strstr(log, listening), "the JVM did not start with the agent: %s", log);
	free(log);
	char *env = app_env();
	cr_assert(env && strstr(env, "export GREETING='kept'\n") &&
		strstr(env, "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:") &&
		strstr(env, "# devkit debug\n"), "app.env: %s", env ? env : "(none)");
	free(env);

	jdwp_check_version(local, 0);
	/* server=y takes the next debugger after one detaches */
	jdwp_check_version(local, 1);

	/* Again with the agent on: the JVM is reused, not restarted. */
	long pid = app_pid();
	devkit_debug_free(dbg);
	dbg = NULL;
	cr_assert_eq(devkit_debug_start(&dbg, lt_k8s, &o), 0, "%s", lt_err());
	cr_assert_eq(app_pid(), pid, "the app was restarted although the agent answered");
	jdwp_check_version(devkit_debug_port(dbg), 0);

	cr_assert_eq(devkit_debug_off(lt_k8s, NULL, LT_POD, NULL), 0, "%s", lt_err());
	cr_assert_neq(app_pid(), pid, "off restarts the app");
	cr_assert(log_shows("app started", "tick 1\n", 30000), "no JVM after off: %s", app_log());
	cr_assert_not(jdwp_answers(port), "the JVM still listens for JDWP on %d", port);
	cr_assert_not(jdwp_answers(devkit_debug_port(dbg)), "the forward still reaches JDWP");
	env = app_env();
	cr_assert(env && strcmp(env, "export GREETING='kept'\n") == 0, "app.env: %s",
		env ? env : "(none)");
	free(env);
	/* off again: nothing to do, no restart */
	pid = app_pid();
	cr_assert_eq(devkit_debug_off(lt_k8s, NULL, LT_POD, NULL), 0, "%s", lt_err());
	cr_assert_eq(app_pid(), pid);
}

Test(debug, suspend_waits_for_the_debugger)
{
	start_hello();
	int port = fx_free_port();
	devkit_debug_options o;
	debug_opts(&o, port);
	o.suspend = 1;
	long long t0 = fx_now_ms();
	start_on_free_port(&o);
	port = o.port;
	fprintf(stderr, "timing: devkit_debug_start to listening, suspend=y: %lld ms\n", fx_now_ms() - t0);
	char listening[128];
	snprintf(listening, sizeof(listening), "Listening for transport dt_socket at address: %d",
		port);
	cr_assert(log_shows(NULL, listening, 5000), "%s", app_log());
	/* main does not run while no debugger is attached */
	cr_assert_not(log_shows(listening, "tick", 1500), "the JVM ran: %s", app_log());
	char *env = app_env();
	cr_assert(env && strstr(env, "suspend=y"), "app.env: %s", env ? env : "(none)");
	free(env);

	int fd = jdwp_connect(devkit_debug_port(dbg), 0);
	uint32_t len;
	free(jdwp_command(fd, 7, 1, 9, &len)); /* VirtualMachine.Resume */
	cr_assert(log_shows(listening, "tick 1\n", 10000), "no output after Resume: %s", app_log());
	close(fd);
}

Test(debug, agent_option_on_the_pod_loopback)
{
	/* The API server's port-forward reaches the Pod's loopback, so an agent
	 * that listens only there is enough (docs/live.md, limits). */
	start_hello();
	int port = fx_free_port();
	char option[160];
	snprintf(option, sizeof(option), "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,"
		"address=127.0.0.1:%d", port);
	devkit_debug_options o;
	debug_opts(&o, port);
	o.agent_option = option;
	cr_assert_eq(devkit_debug_start(&dbg, lt_k8s, &o), 0, "%s", lt_err());
	jdwp_check_version(devkit_debug_port(dbg), 0);
	char *env = app_env();
	cr_assert(env && strstr(env, option) && !strstr(env, "address=*"), "app.env: %s",
		env ? env : "(none)");
	free(env);
	char *log = app_log();
	cr_assert(strstr(log, "Picked up JAVA_TOOL_OPTIONS: ") && strstr(log, option), "%s", log);
	free(log);
}

/* --- through a bastion ------------------------------------------------------------------ */

Test(debug, jdwp_through_a_bastion_tunnel)
{
	start_hello();
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	devkit_tunnel_options to;
	devkit_tunnel_options_init(&to, DEVKIT_TUNNEL_OPTIONS_VERSION);
	char bastion[128];
	snprintf(bastion, sizeof(bastion), "%s@127.0.0.1:%d", sshd.user, sshd.port);
	to.bastion = bastion;
	to.identity_file = sshd.user_key;
	to.known_hosts_file = sshd.known_hosts;
	to.use_agent = 0;
	cr_assert_eq(devkit_tunnel_open(&tunnel, lt_ctx, &to), 0, "%s", lt_err());

	int port = fx_free_port();
	devkit_debug_options o;
	debug_opts(&o, port);
	o.tunnel = tunnel;
	int forwards = fx_k8s_count_requests(&lt_api, NULL, "/portforward");
	long long t0 = fx_now_ms();
	start_on_free_port(&o);
	port = o.port;
	fprintf(stderr, "timing: devkit_debug_start to JDWP handshake ready (bastion): %lld ms\n",
		fx_now_ms() - t0);
	jdwp_check_version(devkit_debug_port(dbg), 0);
	cr_assert_eq(fx_k8s_count_requests(&lt_api, NULL, "/portforward"), forwards,
		"through the bastion, the API server is not asked to forward");
	devkit_tunnel_stats st = DEVKIT_TUNNEL_STATS_INIT;
	cr_assert_eq(devkit_tunnel_get_stats(tunnel, &st), 0);
	cr_assert_gt(st.channels_total, 0, "the JDWP connections went through the tunnel");
}

/* --- errors -------------------------------------------------------------------------- */

Test(debug, no_keepalive_is_unsupported)
{
	lt_start("exec sleep 300", "");
	cr_assert_eq(fx_k8s_apply(&lt_api, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"plain\",\"namespace\":\"" LT_NS "\"},\"spec\":{\"containers\":[{\"name\":"
		"\"app\",\"image\":\"app:1\"}]}}"), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&lt_api, LT_NS, "plain"), 0);
	devkit_debug_options o;
	debug_opts(&o, fx_free_port());
	o.pod = "plain";
	int rc = devkit_debug_start(&dbg, lt_k8s, &o);
	cr_assert_eq(rc, DEVKIT_EUNSUPPORTED, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "no devkit keep-alive") && strstr(lt_err(), "/plain"), "%s",
		lt_err());
	cr_assert_null(dbg);
	rc = devkit_debug_off(lt_k8s, NULL, "plain", NULL);
	cr_assert_eq(rc, DEVKIT_EUNSUPPORTED, "rc %d: %s", rc, lt_err());
}

Test(debug, a_jvm_that_never_listens_times_out)
{
	lt_start("echo not a jvm; exec sleep 300", "");
	devkit_debug_options o;
	debug_opts(&o, fx_free_port());
	o.timeout_ms = 2000;
	long long t0 = fx_now_ms();
	int rc = devkit_debug_start(&dbg, lt_k8s, &o);
	long long took = fx_now_ms() - t0;
	cr_assert_eq(rc, DEVKIT_ETIMEOUT, "rc %d: %s", rc, lt_err());
	cr_assert_null(dbg);
	const char *m = lt_err();
	cr_log_info("%s", m);
	/* "did not answer", or under load "accepted but nothing answered" (the
	 * API server took longer than a probe to report the refused port) */
	cr_assert(strstr(m, "answer") && strstr(m, "the JDWP handshake") &&
		strstr(m, "within 2000 ms") &&
		strstr(m, "app: running pid") && strstr(m, "app.log:") && strstr(m, "not a jvm"),
		"message: %s", m);
	cr_assert_lt(took, 15000, "took %lld ms", took);
}

Test(debug, an_app_that_exits_fails_early)
{
	lt_start("if [ -f exit-now ]; then echo 'bad option, bye'; exit 3; fi; exec sleep 300", "");
	char path[700];
	snprintf(path, sizeof(path), "%s/exit-now", lt_replica.dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	devkit_debug_options o;
	debug_opts(&o, fx_free_port());
	o.timeout_ms = 60000;
	long long t0 = fx_now_ms();
	int rc = devkit_debug_start(&dbg, lt_k8s, &o);
	long long took = fx_now_ms() - t0;
	cr_assert_eq(rc, DEVKIT_EIO, "rc %d: %s", rc, lt_err());
	cr_log_info("%s", lt_err());
	cr_assert(strstr(lt_err(), "exit status 3") && strstr(lt_err(), "bad option, bye"),
		"message: %s", lt_err());
	cr_assert_lt(took, 15000, "took %lld ms: an exited app must not wait for the timeout", took);
}

Test(debug, local_port_in_use_is_eexists_and_leaves_the_app)
{
	lt_start("exec sleep 300", "");
	int busy = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	cr_assert(bind(busy, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(busy, 1) == 0);
	getsockname(busy, (struct sockaddr *)&a, &alen);
	long pid = app_pid();
	devkit_debug_options o;
	debug_opts(&o, fx_free_port());
	o.local_port = ntohs(a.sin_port);
	int rc = devkit_debug_start(&dbg, lt_k8s, &o);
	close(busy);
	cr_assert_eq(rc, DEVKIT_EEXISTS, "rc %d: %s", rc, lt_err());
	cr_log_info("%s", lt_err());
	cr_assert(strstr(lt_err(), "is in use"), "%s", lt_err());
	cr_assert_eq(app_pid(), pid, "the app must not be restarted");
	char *env = app_env();
	cr_assert_null(env, "app.env must not be written: %s", env ? env : "");
}

Test(debug, bad_options_are_einval)
{
	lt_start("exec sleep 300", "");
	devkit_debug_options o;
	debug_opts(&o, 70000);
	cr_assert_eq(devkit_debug_start(&dbg, lt_k8s, &o), DEVKIT_EINVAL);
	debug_opts(&o, 5005);
	o.agent_option = "-agentlib:jdwp=x\nrm -rf /";
	cr_assert_eq(devkit_debug_start(&dbg, lt_k8s, &o), DEVKIT_EINVAL);
	cr_assert_null(dbg);
	cr_assert_eq(devkit_debug_port(NULL), DEVKIT_EINVAL);
	devkit_debug_free(NULL);
}

/* --- the CLI ------------------------------------------------------------------------ */

static const char *cli(void)
{
	static char path[1024];
	snprintf(path, sizeof(path), "%s/bin/devkit", getenv("DEVKIT_BUILD_DIR"));
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

static char *read_abs(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *s = calloc(1, 65536);
	size_t n = s ? fread(s, 1, 65535, f) : 0;
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

Test(debug, cli_debug_until_ctrl_c_then_off)
{
	start_hello();
	int port = fx_free_port(), local = fx_free_port();
	char ports[16], locals[16];
	snprintf(ports, sizeof(ports), "%d", port);
	snprintf(locals, sizeof(locals), "%d", local);
	const char *kc = fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN);
	cr_assert_eq(fx_daemon_init(&cli_proc, "devkit-debug"), 0);
	const char *argv[] = { cli(), "debug", LT_POD, "--port", ports, "--local-port", locals,
		"--kubeconfig", kc, "-n", LT_NS, "-v", NULL };
	cr_assert_eq(fx_daemon_spawn(&cli_proc, argv, NULL), 0);
	char want[128];
	snprintf(want, sizeof(want), "debugger: connect your IDE to localhost:%d (JDWP)", local);
	int seen = 0;
	for (int i = 0; i < 600 && !seen; i++) {
		char *out = read_abs(cli_proc.log);
		seen = out && strstr(out, want);
		free(out);
		if (!seen)
			fx_sleep_ms(100);
	}
	cr_assert(seen, "the CLI did not say where to connect");
	jdwp_check_version(local, 0);
	cr_assert_eq(kill(cli_proc.pid, SIGINT), 0);
	int status = 0;
	cr_assert_eq(waitpid(cli_proc.pid, &status, 0), cli_proc.pid);
	cli_proc.pid = 0;
	char *out = read_abs(cli_proc.log);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "Ctrl-C must end devkit debug "
		"with status 0: %s", out);
	cr_log_info("devkit debug -v:\n%s", out);
	free(out);
	cr_assert_not(jdwp_answers(local), "the forward must be gone after Ctrl-C");

	const char *off[] = { cli(), "debug", LT_POD, "--off", "--kubeconfig", kc, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(off, NULL, NULL, 60000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "stdout %s stderr %s", r.out, r.err);
	fx_run_result_free(&r);
	char *env = app_env();
	cr_assert(!env || !strstr(env, "devkit debug"), "app.env: %s", env);
	free(env);

	const char *bad[] = { cli(), "debug", NULL };
	cr_assert_eq(fx_run(bad, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 2, "%s", r.err);
	fx_run_result_free(&r);
}

Test(debug, cli_through_a_bastion)
{
	start_hello();
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	char bastion[128], ports[16];
	snprintf(bastion, sizeof(bastion), "%s@127.0.0.1:%d", sshd.user, sshd.port);
	snprintf(ports, sizeof(ports), "%d", fx_free_port());
	const char *kc = fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN);
	cr_assert_eq(fx_daemon_init(&cli_proc, "devkit-debug"), 0);
	const char *argv[] = { cli(), "debug", LT_POD, "--port", ports, "--local-port", "0",
		"--kubeconfig", kc, "-b", bastion, "-i", sshd.user_key, "--known-hosts",
		sshd.known_hosts, "--no-agent", NULL };
	int forwards = fx_k8s_count_requests(&lt_api, NULL, "/portforward");
	cr_assert_eq(fx_daemon_spawn(&cli_proc, argv, NULL), 0);
	int local = 0;
	for (int i = 0; i < 600 && !local; i++) {
		char *out = read_abs(cli_proc.log);
		const char *p = out ? strstr(out, "connect your IDE to localhost:") : NULL;
		if (p)
			local = atoi(p + strlen("connect your IDE to localhost:"));
		free(out);
		if (!local)
			fx_sleep_ms(100);
	}
	cr_assert_gt(local, 0, "the CLI did not say where to connect");
	jdwp_check_version(local, 0);
	cr_assert_eq(fx_k8s_count_requests(&lt_api, NULL, "/portforward"), forwards,
		"through the bastion, the API server is not asked to forward");
}
