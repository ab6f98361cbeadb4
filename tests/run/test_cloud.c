/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issue 4 end to end, through the library's engine (tunnel + remote DNS +
 * router, as devkit run assembles them): unmodified curl and python3, run
 * with the LD_PRELOAD shim, reach a service that only the cloud can see, by
 * its cluster name; everything else stays direct, and nothing meant for the
 * cloud ever leaks to a direct connect.
 */
#include "run_test.h"

TestSuite(run, .init = rt_setup, .fini = rt_teardown, .timeout = 120);

static const char py_urllib_asyncio[] =
	"import asyncio, sys, urllib.request\n"
	"url = 'http://" FX_CLOUD_SERVICE ":%s/' % sys.argv[1]\n"
	/* No timeout: a blocking socket, so the shim's OPEN path. */
	"sys.stdout.write(urllib.request.urlopen(url).read().decode())\n"
	"async def echo():\n"
	/* asyncio connects non-blocking: the shim's ROUTE path. */
	"    r, w = await asyncio.open_connection('" FX_CLOUD_ECHO_SERVICE "', int(sys.argv[2]))\n"
	"    w.write(b'asyncio'); await w.drain()\n"
	"    print((await r.readexactly(7)).decode())\n"
	"    w.close(); await w.wait_closed()\n"
	"asyncio.run(echo())\n";

Test(run, curl_reaches_cluster_name_that_host_cannot)
{
	if (rt_cloud.netns) {
		/* Isolation: the host itself cannot reach the service. */
		int fd = fx_connect_tcp(FX_CLOUD_SERVICE_IP, rt_cloud.http_port);
		int err = errno;
		if (fd >= 0)
			close(fd);
		cr_assert_lt(fd, 0, "the host reached %s:%d directly: the cloud is not isolated",
			FX_CLOUD_SERVICE_IP, rt_cloud.http_port);
		cr_log_info("direct connect to %s:%d from the host: %s (isolated)", FX_CLOUD_SERVICE_IP,
			rt_cloud.http_port, strerror(err));
	} else {
		fprintf(stderr, "[run] loopback: the direct-connect isolation check does not apply\n");
	}
	rt_engine_start(&rt_eng);
	const char *url = tt_fmt("http://" FX_CLOUD_SERVICE ":%d/", rt_cloud.http_port);
	const char *argv[] = { "curl", "-s", "-S", "-m", "20", url, NULL };
	fx_run_result r;
	rt_run(argv, rt_env(rt_eng.control), 30000, &r);
	cr_expect_eq(r.exit_code, 0, "curl exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, FX_CLOUD_PAGE, "curl printed '%s'", r.out);
	devkit_router_stats st = rt_router_stats(&rt_eng);
	cr_expect_geq(st.routed, 1, "the connect did not go through the tunnel");
	cr_expect_geq(st.resolved, 1, "the name was not resolved by the engine");
	fx_run_result_free(&r);
}

Test(run, short_name_through_search_list)
{
	rt_engine_start(&rt_eng);
	/* "orders" -> orders.default.svc.cluster.local, as inside a Pod. */
	const char *url = tt_fmt("http://orders:%d/", rt_cloud.http_port);
	const char *argv[] = { "curl", "-s", "-S", "-m", "20", url, NULL };
	fx_run_result r;
	rt_run(argv, rt_env(rt_eng.control), 30000, &r);
	cr_expect_eq(r.exit_code, 0, "curl exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, FX_CLOUD_PAGE, "curl printed '%s'", r.out);
	/* And orders.default, one dot: still fewer than ndots. */
	url = tt_fmt("http://orders.default:%d/", rt_cloud.http_port);
	const char *argv2[] = { "curl", "-s", "-S", "-m", "20", url, NULL };
	fx_run_result r2;
	rt_run(argv2, rt_env(rt_eng.control), 30000, &r2);
	cr_expect_eq(r2.exit_code, 0, "curl orders.default exit %d: %s", r2.exit_code, r2.err);
	cr_expect_str_eq(r2.out, FX_CLOUD_PAGE);
	fx_run_result_free(&r);
	fx_run_result_free(&r2);
}

Test(run, python_urllib_blocking_and_asyncio_nonblocking)
{
	rt_engine_start(&rt_eng);
	fx_run_result r;
	rt_python(py_urllib_asyncio, rt_itoa(rt_cloud.http_port), rt_itoa(rt_cloud.echo_port),
		rt_env(rt_eng.control), &r);
	cr_expect_eq(r.exit_code, 0, "python exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, FX_CLOUD_PAGE "asyncio\n", "python printed '%s'", r.out);
	cr_expect_geq(rt_router_stats(&rt_eng).routed, 2);
	fx_run_result_free(&r);
}

/* The first name in /etc/hosts on a loopback address other than localhost
 * (a name outside the cluster that never needs the system's DNS), or NULL. */
static const char *hosts_name(void)
{
	static char name[128];
	FILE *f = fopen("/etc/hosts", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char ip[64], n[128];
		if (sscanf(line, "%63s %127s", ip, n) == 2 && ip[0] != '#' && !strncmp(ip, "127.", 4) &&
			strcmp(n, "localhost") && !strstr(n, "localhost") && !strchr(n, '#')) {
			snprintf(name, sizeof(name), "%s", n);
			fclose(f);
			return name;
		}
	}
	if (f)
		fclose(f);
	return NULL;
}

static const char py_direct[] =
	"import socket, sys\n"
	"port = int(sys.argv[1])\n"
	"for host in sys.argv[2].split(','):\n"
	"    s = socket.create_connection((host, port), timeout=10)\n"
	"    s.sendall(host.encode()); print(s.recv(100).decode()); s.close()\n";

Test(run, names_outside_cluster_and_other_cidrs_go_direct)
{
	rt_engine_start(&rt_eng);
	fx_server *echo = fx_echo_start(); /* on the host, 127.0.0.1: not routed */
	cr_assert_not_null(echo);
	const char *port = rt_itoa(fx_server_port(echo));
	fx_run_result r;
	rt_python(py_direct, port, "127.0.0.1,localhost", rt_env(rt_eng.control), &r);
	cr_expect_eq(r.exit_code, 0, "python exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, "127.0.0.1\nlocalhost\n");
	devkit_router_stats st = rt_router_stats(&rt_eng);
	/* The engine never heard of these connects or names. */
	cr_expect_eq(st.requests, 0, "the router saw %llu requests for direct traffic",
		(unsigned long long)st.requests);
	cr_expect_eq(st.routed, 0);
	fx_run_result_free(&r);

	/* A short name that only /etc/hosts knows: the search list asks the
	 * cluster first (as in a Pod), gets NXDOMAIN, then the name goes to the
	 * system's lookup (files) and the connect goes direct. */
	const char *name = hosts_name();
	if (name) {
		rt_python(py_direct, port, name, rt_env(rt_eng.control), &r);
		cr_expect_eq(r.exit_code, 0, "python (%s) exit %d: %s", name, r.exit_code, r.err);
		cr_expect_str_eq(r.out, tt_fmt("%s\n", name));
		cr_expect_eq(rt_router_stats(&rt_eng).routed, 0, "%s was routed to the cloud", name);
		fx_run_result_free(&r);
	} else {
		cr_log_warn("no non-localhost name in /etc/hosts: only 127.0.0.1 and localhost tried");
	}
	fx_server_stats ss;
	fx_server_stats_get(echo, &ss);
	cr_expect_eq(ss.accepted, name ? 3 : 2, "the host's echo server saw %llu connects",
		(unsigned long long)ss.accepted);
	fx_echo_stop(echo);
}

static const char py_refused[] =
	"import socket, sys\n"
	"try:\n"
	"    socket.create_connection(('" FX_CLOUD_SERVICE "', int(sys.argv[1])))\n"
	"    print('connected')\n"
	"except ConnectionRefusedError as e:\n"
	"    print('ConnectionRefusedError', e.errno)\n";

Test(run, refused_cloud_port_is_econnrefused)
{
	rt_engine_start(&rt_eng);
	fx_run_result r;
	rt_python(py_refused, rt_itoa(rt_cloud.refused_port), NULL, rt_env(rt_eng.control), &r);
	cr_expect_eq(r.exit_code, 0, "python exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, tt_fmt("ConnectionRefusedError %d\n", ECONNREFUSED));
	cr_expect_geq(rt_router_stats(&rt_eng).refused, 1);
	fx_run_result_free(&r);
}

static const char py_engine_gone[] =
	"import errno, select, socket, sys\n"
	"ip, port = '" FX_CLOUD_SERVICE_IP "', int(sys.argv[1])\n"
	"def name(n): return errno.errorcode.get(n, str(n))\n"
	"try:\n"
	"    socket.create_connection((ip, port)); print('blocking: connected')\n"
	"except OSError as e: print('blocking:', name(e.errno))\n"
	"s = socket.socket(); s.setblocking(False)\n"
	"rc = s.connect_ex((ip, port))\n"
	"if rc == errno.EINPROGRESS:\n"
	"    select.select([], [s], [], 10)\n"
	"    rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)\n"
	"print('nonblocking:', name(rc) if rc else 'connected')\n"
	"try:\n"
	"    socket.getaddrinfo('" FX_CLOUD_SERVICE "', 80); print('resolve: ok')\n"
	"except socket.gaierror as e:\n"
	"    print('resolve:', 'EAI_AGAIN' if e.errno == socket.EAI_AGAIN else e)\n";

Test(run, engine_gone_fails_closed_never_direct)
{
	rt_engine_start(&rt_eng);
	/* A listener on the host at a routed address: any leak would land here. */
	fx_server_options so = { .mode = FX_SERVER_ECHO, .bind_addr = FX_CLOUD_SERVICE_IP };
	fx_server *trap = fx_server_start(&so);
	cr_assert_not_null(trap);
	char control[256];
	snprintf(control, sizeof(control), "%s", rt_eng.control);
	devkit_router_free(rt_eng.router); /* the engine is gone */
	rt_eng.router = NULL;
	fx_run_result r;
	rt_python(py_engine_gone, rt_itoa(fx_server_port(trap)), NULL, rt_env(control), &r);
	cr_expect_eq(r.exit_code, 0, "python exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, "blocking: ECONNREFUSED\nnonblocking: ECONNREFUSED\nresolve: EAI_AGAIN\n");
	fx_server_stats ss;
	fx_server_stats_get(trap, &ss);
	cr_expect_eq(ss.accepted, 0, "%llu routed connects leaked to a direct connect",
		(unsigned long long)ss.accepted);
	fx_run_result_free(&r);
	fx_server_stop(trap);
}
