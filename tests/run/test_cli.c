/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit run` as a user types it, against the cloud: curl by full and short
 * cluster name, Java, the exit status passed through, and a killed devkit
 * failing closed. Skipped (with a message) where the CLI lacks `run`.
 */
#include "run_test.h"

TestSuite(cli, .init = rt_setup, .fini = rt_teardown, .timeout = 120);

static void cli_run(const char *const cmd[], fx_run_result *r)
{
	rt_need_cli_run();
	/* Tell devkit where the shim of this build is. */
	/* TMPDIR: devkit run's private control directory goes under the test's
	 * own directory, removed at teardown even when a test kills devkit. */
	const char *env[] = { tt_fmt("DEVKIT_PRELOAD_LIB=%s", rt_preload_lib()),
		tt_fmt("TMPDIR=%s", rt_dir), NULL };
	rt_run(rt_cli_argv(cmd), env, 90000, r);
}

Test(cli, curl_by_cluster_name_is_byte_exact)
{
	if (rt_cloud.netns)
		cr_assert_eq(fx_connect_tcp(FX_CLOUD_SERVICE_IP, rt_cloud.http_port), -1,
			"the host reached the service directly: the cloud is not isolated");
	const char *url = tt_fmt("http://" FX_CLOUD_SERVICE ":%d/", rt_cloud.http_port);
	const char *cmd[] = { "curl", "-s", "-S", "-m", "20", url, NULL };
	fx_run_result r;
	cli_run(cmd, &r);
	cr_expect_eq(r.exit_code, 0, "devkit run curl: exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, FX_CLOUD_PAGE, "curl printed '%s' (stderr %s)", r.out, r.err);
	fx_run_result_free(&r);
}

Test(cli, curl_by_short_name)
{
	const char *url = tt_fmt("http://orders:%d/", rt_cloud.http_port);
	const char *cmd[] = { "curl", "-s", "-S", "-m", "20", url, NULL };
	fx_run_result r;
	cli_run(cmd, &r);
	cr_expect_eq(r.exit_code, 0, "devkit run curl: exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, FX_CLOUD_PAGE, "curl printed '%s' (stderr %s)", r.out, r.err);
	fx_run_result_free(&r);
}

Test(cli, exit_status_is_the_commands)
{
	const char *cmd[] = { "sh", "-c", "exit 7", NULL };
	fx_run_result r;
	cli_run(cmd, &r);
	cr_expect_eq(r.exit_code, 7, "devkit run -- sh -c 'exit 7' exited %d: %s", r.exit_code, r.err);
	fx_run_result_free(&r);
}

static const char py_asyncio_refused[] =
	"import asyncio, sys\n"
	"async def main():\n"
	"    r, w = await asyncio.open_connection('" FX_CLOUD_ECHO_SERVICE "', int(sys.argv[1]))\n"
	"    w.write(b'asyncio'); await w.drain(); print((await r.readexactly(7)).decode()); w.close()\n"
	"asyncio.run(main())\n"
	"import socket\n"
	"try: socket.create_connection(('" FX_CLOUD_SERVICE "', int(sys.argv[2])))\n"
	"except ConnectionRefusedError: print('ConnectionRefusedError')\n";

Test(cli, python_asyncio_and_refused_port)
{
	const char *cmd[] = { tt_python(), "-c", py_asyncio_refused, rt_itoa(rt_cloud.echo_port),
		rt_itoa(rt_cloud.refused_port), NULL };
	fx_run_result r;
	cli_run(cmd, &r);
	cr_expect_eq(r.exit_code, 0, "exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, "asyncio\nConnectionRefusedError\n", "python printed '%s' (%s)", r.out,
		r.err);
	fx_run_result_free(&r);
}

/*
 * devkit is killed while its command runs: the command's next routed connect
 * is refused, and does not go direct. The command (a grandchild of this test
 * once devkit is gone) writes what it saw to a file.
 */
static const char py_killed[] =
	"import errno, os, signal, socket, sys, time, urllib.request\n"
	"res, page_port, trap_port = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
	"out = urllib.request.urlopen('http://" FX_CLOUD_SERVICE ":%s/' % page_port).read().decode()\n"
	"ppid = os.getppid()\n"
	"os.kill(ppid, signal.SIGKILL)\n"
	"for _ in range(400):\n"
	"    if os.getppid() != ppid: break\n"
	"    time.sleep(0.01)\n"
	"try:\n"
	"    socket.create_connection(('" FX_CLOUD_SERVICE_IP "', trap_port)); out += 'after: connected\\n'\n"
	"except OSError as e: out += 'after: %s\\n' % errno.errorcode.get(e.errno, e.errno)\n"
	"open(res + '.tmp', 'w').write(out)\n"
	"os.rename(res + '.tmp', res)\n";

Test(cli, devkit_killed_fails_closed)
{
	fx_server_options so = { .mode = FX_SERVER_ECHO, .bind_addr = FX_CLOUD_SERVICE_IP };
	fx_server *trap = fx_server_start(&so);
	cr_assert_not_null(trap);
	const char *res = tt_fmt("%s/killed.txt", rt_dir);
	const char *cmd[] = { tt_python(), "-c", py_killed, res, rt_itoa(rt_cloud.http_port),
		rt_itoa(fx_server_port(trap)), NULL };
	fx_run_result r;
	cli_run(cmd, &r);
	cr_expect_eq(r.signal, SIGKILL, "devkit was not killed (exit %d): %s", r.exit_code, r.err);
	long long deadline = fx_now_ms() + 20000;
	while (access(res, F_OK) != 0 && fx_now_ms() < deadline)
		fx_sleep_ms(20);
	char *text = tt_read_file(res);
	cr_assert_not_null(text, "the command wrote no result; devkit said: %s", r.err);
	cr_expect_str_eq(text, FX_CLOUD_PAGE "after: ECONNREFUSED\n");
	fx_server_stats ss;
	fx_server_stats_get(trap, &ss);
	cr_expect_eq(ss.accepted, 0, "a routed connect leaked to a direct connect");
	free(text);
	fx_run_result_free(&r);
	fx_server_stop(trap);
}

/* The three commands of docs/run.md's Java developer, in short: java under devkit run. */
Test(cli, java_nio_and_http_client)
{
	if (!rt_have_java())
		cr_skip_test("no /usr/bin/java");
	static const char src[] =
		"import java.net.*; import java.net.http.*; import java.nio.ByteBuffer; import java.nio.channels.*;\n"
		"public class Cli { public static void main(String[] a) throws Exception {\n"
		"  SocketChannel ch = SocketChannel.open(); ch.configureBlocking(false);\n"
		"  Selector sel = Selector.open();\n"
		"  if (!ch.connect(new InetSocketAddress(\"" FX_CLOUD_ECHO_SERVICE "\", Integer.parseInt(a[0]))))\n"
		"    { ch.register(sel, SelectionKey.OP_CONNECT); sel.select(15000); ch.finishConnect(); }\n"
		"  sel.close(); ch.configureBlocking(true); ch.write(ByteBuffer.wrap(\"nio\".getBytes()));\n"
		"  ByteBuffer in = ByteBuffer.allocate(3); while (in.hasRemaining() && ch.read(in) >= 0) {}\n"
		"  System.out.println(new String(in.array()));\n"
		"  HttpClient c = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();\n"
		"  System.out.print(c.send(HttpRequest.newBuilder(URI.create(\"http://orders:\" + a[1] + \"/\")).build(),\n"
		"    HttpResponse.BodyHandlers.ofString()).body());\n"
		"  System.exit(0); } }\n";
	const char *cmd[] = { "java", rt_java_file("Cli", src), rt_itoa(rt_cloud.echo_port),
		rt_itoa(rt_cloud.http_port), NULL };
	fx_run_result r;
	cli_run(cmd, &r);
	cr_expect_eq(r.exit_code, 0, "exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, "nio\n" FX_CLOUD_PAGE, "java printed '%s' (%s)", r.out, r.err);
	fx_run_result_free(&r);
}
