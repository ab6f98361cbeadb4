/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The remote DNS against real servers: OpenSSH sshd as the bastion, a dnsmasq
 * as the cluster DNS (reached only through the tunnel: cluster_dns is
 * 127.0.0.1:PORT as the bastion sees it) and a second dnsmasq as the upstream
 * resolver. Queries are sent to the stub the way any resolver sends them
 * (UDP, TCP with a length prefix). Every address used is on 127.0.0.0/8; the
 * machine's own resolver is never used (upstream is always set).
 */
#include <sys/wait.h>

#include "devkit/dns.h"
#include "dns/dns_msg.h"
#include "../tunnel/tunnel_test.h"

static fx_sshd sshd;
static pid_t cluster_pid, upstream_pid;
static int cluster_port, upstream_port;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static devkit_dns *dns;

/* --- a DNS client ------------------------------------------------------------ */

typedef struct answer {
	int ok;              /* got a parseable response */
	int rcode;
	int tc;
	uint16_t id;
	char qname[256];
	int n;               /* A/AAAA records in the answer section */
	char addrs[64][64];
	char owners[64][256];
} answer;

static void read_answer(const uint8_t *b, size_t n, answer *a)
{
	memset(a, 0, sizeof(*a));
	dns_msg m;
	if (dns_msg_parse(b, n, &m) != 0)
		return;
	a->ok = 1;
	a->rcode = DNS_RCODE(m.flags);
	a->tc = (m.flags & DNS_FLAG_TC) != 0;
	a->id = m.id;
	snprintf(a->qname, sizeof(a->qname), "%s", m.qname ? m.qname : "");
	for (size_t i = 0; i < m.nrr && a->n < 64; i++) {
		const dns_rr *rr = &m.rrs[i];
		if (rr->section != 1 || (rr->type != DNS_T_A && rr->type != DNS_T_AAAA))
			continue;
		inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6, b + rr->rdata_off, a->addrs[a->n], 64);
		snprintf(a->owners[a->n], 256, "%s", rr->name);
		a->n++;
	}
	dns_msg_clear(&m);
}

static int send_udp_raw(int port, const void *q, size_t len, uint8_t *resp, size_t cap, int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	sendto(fd, q, len, 0, (struct sockaddr *)&sa, sizeof(sa));
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = -1;
	if (poll(&p, 1, timeout_ms) == 1)
		n = (int)recv(fd, resp, cap, 0);
	close(fd);
	return n;
}

static void query(int port, const char *name, int qtype, int tcp, answer *a)
{
	dns_out o = { 0 };
	uint16_t id = (uint16_t)(rand() & 0xffff);
	cr_assert_eq(dns_build_query(&o, id, 1, name, (uint16_t)qtype, DNS_C_IN), 0);
	static uint8_t resp[65536 + 2];
	int n = -1;
	if (!tcp) {
		n = send_udp_raw(port, o.p, o.len, resp, sizeof(resp), TT_WAIT_MS);
		if (n > 0)
			read_answer(resp, (size_t)n, a);
	} else {
		int fd = fx_connect_tcp("127.0.0.1", port);
		cr_assert_geq(fd, 0);
		uint8_t hdr[2];
		dns_set_u16(hdr, (uint16_t)o.len);
		fx_write_all(fd, hdr, 2);
		fx_write_all(fd, o.p, o.len);
		if (fx_read_full(fd, hdr, 2, TT_WAIT_MS) == 2) {
			size_t len = dns_get_u16(hdr);
			if (fx_read_full(fd, resp, len, TT_WAIT_MS) == (ssize_t)len)
				n = (int)len;
		}
		close(fd);
		if (n > 0)
			read_answer(resp, (size_t)n, a);
	}
	cr_assert_gt(n, 0, "no answer from the stub for %s over %s", name, tcp ? "TCP" : "UDP");
	cr_assert(a->ok, "unparseable answer for %s", name);
	cr_assert_eq(a->id, id, "answer ID %u is not the query's %u", a->id, id);
	dns_out_free(&o);
}

/* --- dnsmasq ---------------------------------------------------------------------- */

static pid_t start_dnsmasq(int *port_out, const char *const extra[])
{
	for (int attempt = 0; attempt < 5; attempt++) {
		int port = fx_free_port();
		const char *argv[64];
		int k = 0;
		argv[k++] = "dnsmasq";
		argv[k++] = "--no-daemon";
		argv[k++] = "--conf-file=/dev/null";
		argv[k++] = "--no-resolv";
		argv[k++] = "--no-hosts";
		argv[k++] = "--listen-address=127.0.0.1";
		argv[k++] = "--bind-interfaces";
		argv[k++] = tt_fmt("--port=%d", port);
		argv[k++] = "--user=root";
		argv[k++] = "--pid-file=";
		argv[k++] = "--local-ttl=30";
		for (int i = 0; extra[i]; i++)
			argv[k++] = extra[i];
		argv[k] = NULL;
		pid_t pid = fx_spawn(argv, NULL, NULL);
		cr_assert_gt(pid, 0, "cannot start dnsmasq");
		/* Ready when it answers. */
		dns_out o = { 0 };
		dns_build_query(&o, 1, 1, "ready.check", DNS_T_A, DNS_C_IN);
		uint8_t resp[512];
		for (long long end = fx_now_ms() + 5000; fx_now_ms() < end;) {
			if (send_udp_raw(port, o.p, o.len, resp, sizeof(resp), 100) > 0) {
				dns_out_free(&o);
				*port_out = port;
				return pid;
			}
			if (waitpid(pid, NULL, WNOHANG) == pid)
				break; /* the port was taken: try another */
		}
		dns_out_free(&o);
		fx_proc_tree_signal(pid, SIGKILL, 1);
		fx_proc_reap(pid, 1000);
	}
	cr_assert_fail("dnsmasq did not start");
	return -1;
}

static void stop_dnsmasq(pid_t *pid)
{
	if (*pid > 0) {
		fx_proc_tree_signal(*pid, SIGKILL, 1);
		fx_proc_reap(*pid, 2000);
	}
	*pid = 0;
}

static void setup(void)
{
	srand((unsigned)getpid());
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	static const char *const cluster_args[] = {
		"--host-record=orders.default.svc.cluster.local,127.0.0.2",
		"--host-record=payments.prod.svc.cluster.local,127.0.0.3",
		"--local=/cluster.local/",
		/* 40 addresses: more than fits in 512 bytes */
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.1", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.2",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.3", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.4",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.5", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.6",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.7", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.8",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.9", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.10",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.11", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.12",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.13", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.14",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.15", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.16",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.17", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.18",
		"--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.19", "--host-record=a-very-long-service-name-for-truncation.svc.cluster.local,127.0.1.20",
		NULL };
	static const char *const upstream_args[] = {
		"--address=/example.test/127.0.0.9",
		"--local=/test/",
		"--local=/missing/",
		NULL };
	cluster_pid = start_dnsmasq(&cluster_port, cluster_args);
	upstream_pid = start_dnsmasq(&upstream_port, upstream_args);
	ctx = tt_ctx_new();
	devkit_tunnel_options to;
	tt_opts(&to, &sshd);
	tunnel = tt_open(ctx, &to);
	devkit_dns_options o;
	cr_assert_eq(devkit_dns_options_init(&o, DEVKIT_DNS_OPTIONS_VERSION), 0);
	o.cluster_dns = tt_fmt("127.0.0.1:%d", cluster_port);
	o.upstream = tt_fmt("127.0.0.1:%d", upstream_port);
	o.timeout_ms = 3000;
	int rc = devkit_dns_start(&dns, tunnel, &o);
	cr_assert_eq(rc, 0, "devkit_dns_start: %d %s", rc, tt_errmsg());
	cr_assert_gt(devkit_dns_port(dns), 0);
	cr_assert_str_eq(devkit_dns_address(dns), "127.0.0.1");
}

static void teardown(void)
{
	devkit_dns_free(dns);
	dns = NULL;
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	stop_dnsmasq(&cluster_pid);
	stop_dnsmasq(&upstream_pid);
	fx_sshd_stop(&sshd);
}

static devkit_dns_stats stats(void)
{
	devkit_dns_stats st = DEVKIT_DNS_STATS_INIT;
	cr_assert_eq(devkit_dns_get_stats(dns, &st), 0, "%s", tt_errmsg());
	return st;
}

TestSuite(dns_stub, .init = setup, .fini = teardown, .timeout = 120);

Test(dns_stub, cluster_name_through_the_tunnel)
{
	answer a;
	query(devkit_dns_port(dns), "orders.default.svc.cluster.local", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_NOERROR);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.addrs[0], "127.0.0.2");
	cr_assert_str_eq(a.owners[0], "orders.default.svc.cluster.local");
	devkit_dns_stats st = stats();
	cr_assert_eq(st.queries, 1);
	cr_assert_eq(st.cluster, 1);
	cr_assert_eq(st.upstream, 0);
}

Test(dns_stub, short_names_through_the_search_list)
{
	const char *names[] = { "orders", "orders.default", "ORDERS.Default" };
	for (int i = 0; i < 3; i++) {
		answer a;
		query(devkit_dns_port(dns), names[i], DNS_T_A, 0, &a);
		cr_assert_eq(a.rcode, DNS_NOERROR, "%s: rcode %d", names[i], a.rcode);
		cr_assert_eq(a.n, 1, "%s: %d addresses", names[i], a.n);
		cr_assert_str_eq(a.addrs[0], "127.0.0.2");
		cr_assert_str_eq(a.qname, names[i], "question must be the name asked");
		cr_assert(strcasecmp(a.owners[0], names[i]) == 0, "owner %s is not %s", a.owners[0], names[i]);
	}
	/* "payments.prod" only exists as payments.prod.svc.cluster.local: the
	 * second search suffix. */
	answer a;
	query(devkit_dns_port(dns), "payments.prod", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_NOERROR);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.addrs[0], "127.0.0.3");
	cr_assert_str_eq(a.owners[0], "payments.prod");
	/* AAAA of a name that exists with no AAAA: NOERROR, no records (search stops). */
	query(devkit_dns_port(dns), "orders", DNS_T_AAAA, 0, &a);
	cr_assert_eq(a.rcode, DNS_NOERROR);
	cr_assert_eq(a.n, 0);
	cr_assert_eq(stats().upstream, 0, "no search name went upstream");
}

Test(dns_stub, other_names_go_upstream)
{
	answer a;
	query(devkit_dns_port(dns), "www.example.test", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_NOERROR);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.addrs[0], "127.0.0.9");
	cr_assert_str_eq(a.owners[0], "www.example.test");
	devkit_dns_stats st = stats();
	cr_assert_eq(st.upstream, 1);
	cr_assert_eq(st.cluster, 3, "each search name was tried at the cluster first: %llu",
		(unsigned long long)st.cluster);
}

Test(dns_stub, nxdomain_passes_through)
{
	answer a;
	query(devkit_dns_port(dns), "missing.default.svc.cluster.local", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_NXDOMAIN);
	cr_assert_eq(a.n, 0);
	query(devkit_dns_port(dns), "nothing.test", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_NXDOMAIN);
	query(devkit_dns_port(dns), "missing", DNS_T_A, 1, &a);
	cr_assert_eq(a.rcode, DNS_NXDOMAIN, "rcode %d", a.rcode);
	cr_assert_str_eq(a.qname, "missing");
	cr_assert_eq(stats().nxdomain, 3);
}

Test(dns_stub, servfail_when_the_cluster_dns_is_down)
{
	answer a;
	query(devkit_dns_port(dns), "orders.default.svc.cluster.local", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_NOERROR);
	stop_dnsmasq(&cluster_pid);
	long long t0 = fx_now_ms();
	query(devkit_dns_port(dns), "payments.prod.svc.cluster.local", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_SERVFAIL);
	cr_assert_lt(fx_now_ms() - t0, 2500, "a refused channel fails fast, not at the timeout");
	query(devkit_dns_port(dns), "payments.prod.svc.cluster.local", DNS_T_A, 1, &a);
	cr_assert_eq(a.rcode, DNS_SERVFAIL);
	cr_assert_geq(stats().servfail, 2);
	/* The cached answer still works; the upstream too. */
	query(devkit_dns_port(dns), "orders.default.svc.cluster.local", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_NOERROR);
}

Test(dns_stub, tcp_queries_and_truncation)
{
	answer a;
	query(devkit_dns_port(dns), "orders.default.svc.cluster.local", DNS_T_A, 1, &a);
	cr_assert_eq(a.rcode, DNS_NOERROR);
	cr_assert_str_eq(a.addrs[0], "127.0.0.2");
	/* 20 A records with uncompressed owners do not fit in 512 bytes over UDP. */
	query(devkit_dns_port(dns), "a-very-long-service-name-for-truncation.svc.cluster.local", DNS_T_A, 0, &a);
	cr_assert_eq(a.n, 20, "%d", a.n);
	query(devkit_dns_port(dns), "a-very-long-service-name-for-truncation", DNS_T_A, 0, &a);
	cr_assert(a.tc, "the renamed answer over UDP must be truncated");
	cr_assert_eq(a.n, 0);
	query(devkit_dns_port(dns), "a-very-long-service-name-for-truncation", DNS_T_A, 1, &a);
	cr_assert_not(a.tc);
	cr_assert_eq(a.n, 20);
	cr_assert_str_eq(a.owners[19], "a-very-long-service-name-for-truncation");
}

Test(dns_stub, malformed_packets_are_dropped_and_counted)
{
	int port = devkit_dns_port(dns);
	uint8_t resp[512];
	const uint8_t garbage[] = "hello, this is not DNS";
	const uint8_t loop[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	const uint8_t response[] = { 0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1 };
	const uint8_t cut[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a' };
	cr_assert_lt(send_udp_raw(port, garbage, sizeof(garbage), resp, sizeof(resp), 200), 0);
	cr_assert_lt(send_udp_raw(port, loop, sizeof(loop), resp, sizeof(resp), 200), 0);
	cr_assert_lt(send_udp_raw(port, response, sizeof(response), resp, sizeof(resp), 200), 0);
	cr_assert_lt(send_udp_raw(port, cut, sizeof(cut), resp, sizeof(resp), 200), 0);
	/* Over TCP: a frame of garbage, then a good query on the same connection. */
	int fd = fx_connect_tcp("127.0.0.1", port);
	uint8_t frame[2 + sizeof(loop)];
	dns_set_u16(frame, sizeof(loop));
	memcpy(frame + 2, loop, sizeof(loop));
	fx_write_all(fd, frame, sizeof(frame));
	dns_out o = { 0 };
	dns_build_query(&o, 99, 1, "orders", DNS_T_A, DNS_C_IN);
	uint8_t hdr[2];
	dns_set_u16(hdr, (uint16_t)o.len);
	fx_write_all(fd, hdr, 2);
	fx_write_all(fd, o.p, o.len);
	cr_assert_eq(fx_read_full(fd, hdr, 2, TT_WAIT_MS), 2);
	size_t len = dns_get_u16(hdr);
	cr_assert_eq(fx_read_full(fd, resp, len, TT_WAIT_MS), (ssize_t)len);
	answer a;
	read_answer(resp, len, &a);
	cr_assert_eq(a.id, 99);
	cr_assert_str_eq(a.addrs[0], "127.0.0.2");
	close(fd);
	dns_out_free(&o);
	devkit_dns_stats st = stats();
	cr_assert_eq(st.malformed, 5);
	query(port, "orders.default.svc.cluster.local", DNS_T_A, 0, &a);
	cr_assert_eq(a.rcode, DNS_NOERROR);
}

Test(dns_stub, repeated_answers_come_from_the_cache)
{
	answer a, b;
	query(devkit_dns_port(dns), "orders", DNS_T_A, 0, &a);
	devkit_dns_stats st1 = stats();
	query(devkit_dns_port(dns), "Orders", DNS_T_A, 0, &b);
	devkit_dns_stats st2 = stats();
	cr_assert_eq(st2.cache_hits, st1.cache_hits + 1);
	cr_assert_eq(st2.cluster, st1.cluster, "no new query to the cluster");
	cr_assert_str_eq(b.addrs[0], "127.0.0.2");
	cr_assert_str_eq(b.qname, "Orders", "the question is echoed as asked");
	/* Many concurrent queries over one pipelined connection, IDs kept apart. */
	for (int i = 0; i < 20; i++) {
		query(devkit_dns_port(dns), tt_fmt("n%d.default.svc.cluster.local", i), DNS_T_A, 0, &a);
		cr_assert_eq(a.rcode, DNS_NXDOMAIN);
	}
}

Test(dns_stub, resolve_api)
{
	devkit_buf b = DEVKIT_BUF_INIT;
	int rc = devkit_dns_resolve(dns, "orders", AF_INET, &b);
	cr_assert_eq(rc, 0, "%s", tt_errmsg());
	cr_assert_str_eq(b.ptr, "127.0.0.2\n");
	devkit_buf_dispose(&b);
	rc = devkit_dns_resolve(dns, "orders.default.svc.cluster.local", AF_UNSPEC, &b);
	cr_assert_eq(rc, 0, "%s", tt_errmsg());
	cr_assert_str_eq(b.ptr, "127.0.0.2\n");
	devkit_buf_dispose(&b);
	/* Outside the cluster: not ours to answer. The shim falls back to the
	 * process's own resolver, so the upstream must not be asked here. */
	devkit_dns_stats before = DEVKIT_DNS_STATS_INIT, after = DEVKIT_DNS_STATS_INIT;
	cr_assert_eq(devkit_dns_get_stats(dns, &before), 0);
	rc = devkit_dns_resolve(dns, "www.example.test", 0, &b);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "got %d: %s", rc, tt_errmsg());
	cr_assert_null(b.ptr);
	cr_assert_eq(devkit_dns_get_stats(dns, &after), 0);
	cr_assert_eq(after.upstream, before.upstream, "devkit_dns_resolve asked the upstream resolver");
	rc = devkit_dns_resolve(dns, "missing.default.svc.cluster.local", 0, &b);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND);
	cr_assert(strstr(tt_errmsg(), "NXDOMAIN"), "%s", tt_errmsg());
	cr_assert_null(b.ptr);
	rc = devkit_dns_resolve(dns, "orders", AF_INET6, &b);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND);
	cr_assert(strstr(tt_errmsg(), "no address"), "%s", tt_errmsg());
	rc = devkit_dns_resolve(dns, "127.0.0.5", 0, &b);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(b.ptr, "127.0.0.5\n");
	devkit_buf_dispose(&b);
	cr_assert_eq(devkit_dns_resolve(dns, "", 0, &b), DEVKIT_EINVAL);
	cr_assert_eq(devkit_dns_resolve(dns, "x", 12345, &b), DEVKIT_EINVAL);
	cr_assert_eq(devkit_dns_resolve(dns, "a..b", 0, &b), DEVKIT_EINVAL);
}

Test(dns_stub, options_are_checked)
{
	devkit_dns *d = (devkit_dns *)(uintptr_t)1;
	devkit_dns_options o;
	cr_assert_eq(devkit_dns_options_init(&o, 99), DEVKIT_EINVAL);
	cr_assert_eq(devkit_dns_options_init(&o, DEVKIT_DNS_OPTIONS_VERSION), 0);
	cr_assert_eq(o.ndots, 5);
	cr_assert_eq(o.timeout_ms, 5000);
	cr_assert_eq(o.cache_max, 4096);
	o.upstream = "127.0.0.1:1";
	cr_assert_eq(devkit_dns_start(&d, tunnel, &o), DEVKIT_EINVAL);
	cr_assert_null(d);
	cr_assert(strstr(tt_errmsg(), "cluster_dns"), "%s", tt_errmsg());
	o.cluster_dns = "127.0.0.1:53";
	o.bind_address = "0.0.0.0";
	cr_assert_eq(devkit_dns_start(&d, tunnel, &o), DEVKIT_EINVAL);
	cr_assert(strstr(tt_errmsg(), "loopback"), "%s", tt_errmsg());
	o.bind_address = NULL;
	o.upstream = "dns.example.test";
	cr_assert_eq(devkit_dns_start(&d, tunnel, &o), DEVKIT_EINVAL);
	/* The port of the running stub is taken. */
	o.upstream = "127.0.0.1:1";
	o.bind_port = devkit_dns_port(dns);
	cr_assert_eq(devkit_dns_start(&d, tunnel, &o), DEVKIT_EEXISTS, "%s", tt_errmsg());
	cr_assert_null(d);
	devkit_dns_free(NULL);
}

Test(dns_stub, ctx_free_closes_an_open_stub)
{
	answer a;
	int port = devkit_dns_port(dns);
	query(port, "orders", DNS_T_A, 0, &a);
	/* Closes the tunnel, its forwards and the stub; our pointers die with it. */
	devkit_ctx_free(ctx);
	ctx = NULL;
	tunnel = NULL;
	dns = NULL;
	uint8_t resp[512];
	dns_out o = { 0 };
	dns_build_query(&o, 5, 1, "orders", DNS_T_A, DNS_C_IN);
	cr_assert_lt(send_udp_raw(port, o.p, o.len, resp, sizeof(resp), 200), 0, "the stub is gone");
	dns_out_free(&o);
}
