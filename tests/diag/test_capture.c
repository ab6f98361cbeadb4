/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_capture and `devkit capture` against the Kubernetes API mock
 * (tests/fixtures/k8s_fixture.h), whose exec runs the command on THIS
 * machine: the real tcpdump captures on the real loopback. Each test makes
 * its own traffic -- UDP datagrams "devkit-capture-probe-<random>" to a
 * free port it bound -- and captures with "udp port N" on lo, so nothing
 * else on the machine lands in the capture. The pcap files are read back
 * with tshark.
 *
 * Capturing needs root (or NET_RAW): run as another user, these tests skip
 * and say so. What the container lacks is played with the container's env:
 * the mock runs commands with its PATH replaced by the container's, so a
 * PATH without tcpdump is an image without it, and a PATH with a tcpdump
 * that says "Operation not permitted" is a container without NET_RAW.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>

#include "diag/capture_int.h"
#include "diag_test.h"

extern const char *devkit__exec_offer; /* src/k8s/exec_int.h */

#define POD "web-1"

static void setup(void)
{
	dt_start(NULL);
}

static void teardown(void)
{
	dt_stop();
}

TestSuite(capture, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(capture_cli, .init = setup, .fini = teardown, .timeout = 120);

static void need_root(void)
{
	if (geteuid() == 0)
		return;
	dt_stop(); /* a skipped test does not reach .fini */
	cr_skip_test("tcpdump needs root (or NET_RAW) to capture on lo, and this runs as uid "
		"%u: the capture tests are skipped (CI runs them as root)", (unsigned)geteuid());
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the Pod ---------------------------------------------------------------------- */

/* A running Pod with these containers (a JSON array's elements). */
static void make_pod(const char *containers)
{
	char json[4096];
	snprintf(json, sizeof(json), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
		"\"name\":\"" POD "\",\"namespace\":\"dev\"},\"spec\":{\"containers\":[%s]}}",
		containers);
	cr_assert_eq(fx_k8s_apply(&dt_api, json), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&dt_api, FX_K8S_NAMESPACE, POD), 0);
}

static void make_app_pod(void)
{
	make_pod("{\"name\":\"app\",\"image\":\"busybox\"}");
}

/* --- traffic -------------------------------------------------------------------- */

typedef struct probe {
	int fd;          /* bound UDP socket: the capture's target */
	int port;
	char payload[64];
	char hex[160];   /* the payload as tshark prints udp.payload */
	char filter[64]; /* "udp port N" */
} probe;

static void probe_open(probe *p)
{
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(p->fd, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	cr_assert_eq(getsockname(p->fd, (struct sockaddr *)&a, &len), 0);
	p->port = ntohs(a.sin_port);
	srand((unsigned)(time(NULL) ^ getpid() ^ p->port));
	snprintf(p->payload, sizeof(p->payload), "devkit-capture-probe-%08x", (unsigned)rand());
	for (size_t i = 0; p->payload[i]; i++)
		snprintf(p->hex + 2 * i, 3, "%02x", (unsigned char)p->payload[i]);
	snprintf(p->filter, sizeof(p->filter), "udp port %d", p->port);
}

static void probe_close(probe *p)
{
	close(p->fd);
	p->fd = -1;
}

/* Send n datagrams to the probe's port, gap_ms apart. */
static void probe_send(const probe *p, int n, int gap_ms)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(s, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < n; i++) {
		cr_assert_eq(sendto(s, p->payload, strlen(p->payload), 0, (struct sockaddr *)&to,
			sizeof(to)), (ssize_t)strlen(p->payload));
		if (gap_ms)
			usleep((useconds_t)gap_ms * 1000);
	}
	close(s);
}

/* --- capturing -------------------------------------------------------------------- */

static devkit_capture_options opts_for(const probe *p, int format)
{
	devkit_capture_options o;
	cr_assert_eq(devkit_capture_options_init(&o, DEVKIT_CAPTURE_OPTIONS_VERSION), 0);
	o.pod = POD;
	o.interface_name = "lo";
	o.filter = p ? p->filter : NULL;
	o.format = format;
	return o;
}

typedef struct got {
	char *data;     /* what the reads gave: TEXT lines joined with '\n' */
	size_t len;
	int reads;      /* reads that returned 1 */
	int lines;      /* TEXT: lines */
	int rc;         /* how it ended */
	char msg[1024]; /* and its message */
} got;

static void got_add(got *g, const char *bytes, size_t n, int line)
{
	g->data = realloc(g->data, g->len + n + 2);
	cr_assert_not_null(g->data);
	memcpy(g->data + g->len, bytes, n);
	g->len += n;
	if (line)
		g->data[g->len++] = '\n';
	g->data[g->len] = '\0';
}

/* Read until `want` TEXT lines contain `needle` (want 0: until the end). */
static void read_into(devkit_capture *c, int format, got *g, int want, const char *needle,
	double limit_s)
{
	double until = now_s() + limit_s;
	int seen = 0;
	devkit_buf b = DEVKIT_BUF_INIT;
	if (!g->data)
		got_add(g, "", 0, 0);
	for (;;) {
		cr_assert(now_s() < until, "no %s within %.0f s; so far (%d reads):\n%s",
			want ? "lines" : "end", limit_s, g->reads, format == DEVKIT_CAPTURE_TEXT ?
			g->data : "(pcap)");
		int rc = devkit_capture_read(c, &b, 500);
		if (rc == 0)
			continue;
		if (rc < 0) {
			g->rc = rc;
			snprintf(g->msg, sizeof(g->msg), "%s", dt_err());
			break;
		}
		g->reads++;
		got_add(g, b.ptr, b.size, format == DEVKIT_CAPTURE_TEXT);
		if (format == DEVKIT_CAPTURE_TEXT) {
			cr_assert_null(memchr(b.ptr, '\n', b.size), "a line has a newline: %s", b.ptr);
			g->lines++;
			if (needle && strstr(b.ptr, needle) && ++seen >= want && want > 0)
				break;
		}
	}
	devkit_buf_dispose(&b);
}

static void got_free(got *g)
{
	free(g->data);
	memset(g, 0, sizeof(*g));
}

static devkit_capture_stats stats_of(devkit_capture *c)
{
	devkit_capture_stats st = DEVKIT_CAPTURE_STATS_INIT;
	cr_assert_eq(devkit_capture_get_stats(c, &st), 0, "%s", dt_err());
	return st;
}

/* tcpdump's "->127.0.0.1.PORT: UDP" for a datagram to the probe. */
static const char *to_port(const probe *p)
{
	static char s[64];
	snprintf(s, sizeof(s), "127.0.0.1.%d: UDP", p->port);
	return s;
}

/* tshark's answer for FILE: one line per frame to the probe's port, with
 * its destination port and payload. */
static char *tshark_frames(const char *file, const probe *p, int *frames)
{
	char filter[64];
	snprintf(filter, sizeof(filter), "udp.dstport==%d", p->port);
	const char *argv[] = { "tshark", "-r", file, "-Y", filter, "-T", "fields", "-e",
		"udp.dstport", "-e", "udp.payload", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 60000, &r), 0, "cannot run tshark");
	cr_assert_eq(r.exit_code, 0, "tshark -r %s failed: %s", file, r.err);
	char *out = strdup(r.out);
	fx_run_result_free(&r);
	*frames = 0;
	char want[256];
	snprintf(want, sizeof(want), "%d\t%s", p->port, p->hex);
	for (char *line = out; *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line) {
			cr_assert_str_eq(line, want, "tshark shows a frame that is not the probe");
			(*frames)++;
		}
		if (!nl)
			break;
		*nl = '\n';
		line = nl + 1;
	}
	return out;
}

static off_t file_size(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_size;
}

/* The exec sessions the mock saw, as JSON. */
static json_t *sessions(void)
{
	fx_run_result r;
	cr_assert_eq(fx_k8s_stream_sessions(&dt_api, &r), 0);
	json_t *j = json_loads(r.out, 0, NULL);
	cr_assert(j, "not JSON: %s", r.out);
	fx_run_result_free(&r);
	return j;
}

static json_t *last_exec(json_t *all)
{
	json_t *items = json_object_get(all, "items"), *last = NULL, *s;
	size_t i;
	json_array_foreach(items, i, s)
		if (strcmp(dt_str(s, "kind"), "exec") == 0)
			last = s;
	cr_assert(last, "no exec session was made");
	return last;
}

/* 1 while a process on this machine has `needle` in its command line. */
static int process_running(const char *needle)
{
	DIR *d = opendir("/proc");
	cr_assert(d);
	struct dirent *de;
	int found = 0;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char path[300], buf[4096];
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[n] = '\0';
		if (strstr(buf, "tcpdump") && strstr(buf, needle))
			found = 1;
	}
	closedir(d);
	return found;
}

/* --- pure parts ------------------------------------------------------------------- */

Test(capture_unit, script_quotes_the_filter_and_stops_on_a_line)
{
	char *s = devkit__capture_script("eth0", "host 10.0.0.1 and port 80 or 'it''s'",
		DEVKIT_CAPTURE_PCAP, 5, 128);
	cr_assert_not_null(s);
	cr_assert(strstr(s, "tcpdump -i 'eth0' -n -U -w - -c 5 -s 128 -- 'host 10.0.0.1 and port "
		"80 or '\\''it'\\'''\\''s'\\''' </dev/null 3<&- &\n"), "%s", s);
	cr_assert(strstr(s, "read x <&3; kill -INT $p"), "%s", s);
	free(s);
	s = devkit__capture_script(NULL, NULL, DEVKIT_CAPTURE_TEXT, 0, 0);
	cr_assert(strstr(s, "tcpdump -i 'any' -n -l </dev/null"), "%s", s);
	free(s);
}

Test(capture_unit, summary)
{
	const char *text = "tcpdump: verbose output suppressed\nlistening on lo, link-type EN10MB\n"
		"12 packets captured\n24 packets received by filter\n3 packets dropped by kernel\n";
	devkit__capture_summary s;
	devkit__capture_parse_summary(text, strlen(text), &s);
	cr_assert(s.have_captured && s.have_dropped);
	cr_assert_eq(s.captured, 12);
	cr_assert_eq(s.received, 24);
	cr_assert_eq(s.dropped, 3);
	const char *one = "1 packet captured\r\n1 packet received by filter\r\n0 packets dropped "
		"by kernel";
	devkit__capture_parse_summary(one, strlen(one), &s);
	cr_assert_eq(s.captured, 1);
	cr_assert_eq(s.dropped, 0);
	cr_assert(s.have_dropped);
	devkit__capture_parse_summary("nothing\n", 8, &s);
	cr_assert(!s.have_captured);
}

Test(capture_unit, error_words)
{
	const char *what = "tcpdump in dev/web-1 (app)";
	const char *perm = "tcpdump: lo: You don't have permission to capture on that device\n"
		"(socket: Operation not permitted)\n";
	cr_assert_eq(devkit__capture_failure(what, "", 1, perm, strlen(perm)), DEVKIT_EFORBIDDEN);
	cr_assert(strstr(dt_err(), "tcpdump: lo: You don't have permission"), "%s", dt_err());
	cr_assert(strstr(dt_err(), "NET_RAW"), "%s", dt_err());
	const char *syn = "tcpdump: can't parse filter expression: syntax error\n";
	cr_assert_eq(devkit__capture_failure(what, "tcp port", 1, syn, strlen(syn)), DEVKIT_EINVAL);
	cr_assert(strstr(dt_err(), "syntax error"), "%s", dt_err());
	const char *nf = "tcpdump: not found\n";
	cr_assert_eq(devkit__capture_failure(what, "", 127, nf, strlen(nf)), DEVKIT_EUNSUPPORTED);
	cr_assert(strstr(dt_err(), "devkit replicate --tcpdump"), "%s", dt_err());
	const char *other = "tcpdump: pcap_loop: The interface went down\n";
	cr_assert_eq(devkit__capture_failure(what, "", 1, other, strlen(other)), DEVKIT_EIO);
	cr_assert(strstr(dt_err(), "interface went down (exit status 1)"), "%s", dt_err());
}

/* A pcap stream with 3 records (0, 5 and 70000 bytes) in both byte orders,
 * fed in every chunk size from 1 byte. */
static size_t make_pcap(unsigned char *buf, int swapped)
{
	size_t n = 0;
	uint32_t words[6] = { 0xa1b2c3d4u, 0x00040002u, 0, 0, 262144, 1 };
	for (int i = 0; i < 6; i++) {
		uint32_t w = swapped ? __builtin_bswap32(words[i]) : words[i];
		memcpy(buf + n, &w, 4);
		n += 4;
	}
	uint32_t lens[3] = { 0, 5, 70000 };
	for (int r = 0; r < 3; r++) {
		uint32_t h[4] = { 1, 2, lens[r], lens[r] };
		for (int i = 0; i < 4; i++) {
			uint32_t w = swapped ? __builtin_bswap32(h[i]) : h[i];
			memcpy(buf + n, &w, 4);
			n += 4;
		}
		memset(buf + n, 0xab, lens[r]);
		n += lens[r];
	}
	return n;
}

Test(capture_unit, pcap_records_counted_across_chunks)
{
	static unsigned char buf[80000];
	for (int swapped = 0; swapped < 2; swapped++) {
		size_t n = make_pcap(buf, swapped);
		static const size_t chunks[] = { 1, 3, 16, 17, 4096, 80000 };
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			devkit__capture_pcap p = { 0 };
			for (size_t off = 0; off < n; off += chunks[k])
				devkit__capture_pcap_feed(&p, buf + off, n - off < chunks[k] ? n - off
					: chunks[k]);
			cr_assert_eq(p.records, 3, "chunk %zu, swapped %d: %llu records", chunks[k],
				swapped, (unsigned long long)p.records);
			cr_assert(!p.bad);
		}
		/* the last record not complete yet: not counted */
		devkit__capture_pcap p = { 0 };
		devkit__capture_pcap_feed(&p, buf, n - 1);
		cr_assert_eq(p.records, 2);
	}
	devkit__capture_pcap p = { 0 };
	devkit__capture_pcap_feed(&p, "0A0D0D0A not pcap, pcapng", 25);
	cr_assert(p.bad);
	cr_assert_eq(p.records, 0);
}

/* --- capturing on lo ----------------------------------------------------------------- */

Test(capture, text_lines_name_the_port)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_TEXT);
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	probe_send(&p, 3, 20);
	got g = { 0 };
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 3, to_port(&p), 20);
	cr_assert_eq(devkit_capture_stop(c), 0, "%s", dt_err());
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 0, NULL, 20);
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	cr_assert(strstr(g.msg, "packets captured"), "%s", g.msg);
	devkit_capture_stats st = stats_of(c);
	cr_assert_eq(st.ended, 1);
	/* one line per packet: tcpdump's own count says the same */
	cr_assert_eq(st.packets, (uint64_t)g.lines, "tcpdump counted %llu, we read %d lines:\n%s",
		(unsigned long long)st.packets, g.lines, g.data);
	cr_assert_geq(st.packets, 3);
	cr_assert_eq(st.bytes, (uint64_t)g.len);
	/* after the end, reads keep saying so */
	devkit_buf b = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_capture_read(c, &b, 0), DEVKIT_ECLOSED);
	json_t *all = sessions();
	json_t *s = last_exec(all);
	cr_assert_str_eq(dt_str(s, "container"), "app");
	char *cmd = json_dumps(json_object_get(s, "command"), 0);
	cr_assert(strstr(cmd, "tcpdump -i 'lo' -n -l -- 'udp port"), "%s", cmd);
	free(cmd);
	json_decref(all);
	devkit_capture_free(c);
	got_free(&g);
	probe_close(&p);
}

Test(capture, pcap_file_is_what_tshark_reads)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	char file[600];
	snprintf(file, sizeof(file), "%s/capture.pcap", dt_api.dir);
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_PCAP);
	o.file = file;
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	probe_send(&p, 5, 20);
	/* -U: each packet is written as it comes, so the file grows while the
	 * capture runs */
	double until = now_s() + 20;
	while (stats_of(c).packets < 5) {
		cr_assert(now_s() < until, "5 packets not written within 20 s: %llu",
			(unsigned long long)stats_of(c).packets);
		usleep(50 * 1000);
	}
	cr_assert_eq(devkit_capture_stop(c), 0, "%s", dt_err());
	got g = { 0 };
	read_into(c, DEVKIT_CAPTURE_PCAP, &g, 0, NULL, 20);
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	cr_assert_eq(g.reads, 0, "with a file, reads only report the end");
	devkit_capture_stats st = stats_of(c);
	cr_assert_eq(st.ended, 1);
	cr_assert_eq(st.bytes, (uint64_t)file_size(file));
	int frames;
	char *shown = tshark_frames(file, &p, &frames);
	cr_assert_eq(frames, 5, "tshark shows %d frames:\n%s", frames, shown);
	cr_assert_eq(st.packets, (uint64_t)frames, "tcpdump said %llu packets captured",
		(unsigned long long)st.packets);
	free(shown);
	devkit_capture_free(c);
	got_free(&g);
	probe_close(&p);
}

Test(capture, pcap_stream_to_the_reader)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_PCAP);
	o.snaplen = 200;
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	probe_send(&p, 4, 20);
	double until = now_s() + 20;
	while (stats_of(c).packets < 4) {
		cr_assert(now_s() < until, "4 packets not seen within 20 s");
		usleep(50 * 1000);
	}
	cr_assert_eq(devkit_capture_stop(c), 0, "%s", dt_err());
	got g = { 0 };
	read_into(c, DEVKIT_CAPTURE_PCAP, &g, 0, NULL, 20);
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	/* the stream starts with the pcap file header, in this machine's order */
	uint32_t magic;
	cr_assert_geq(g.len, 24);
	memcpy(&magic, g.data, 4);
	cr_assert_eq(magic, 0xa1b2c3d4u, "magic %08x", magic);
	cr_assert_eq(stats_of(c).bytes, (uint64_t)g.len);
	char file[600];
	snprintf(file, sizeof(file), "%s/stream.pcap", dt_api.dir);
	FILE *f = fopen(file, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(g.data, 1, g.len, f), g.len);
	fclose(f);
	int frames;
	char *shown = tshark_frames(file, &p, &frames);
	cr_assert_eq(frames, 4, "%s", shown);
	cr_assert_eq(stats_of(c).packets, 4);
	free(shown);
	devkit_capture_free(c);
	got_free(&g);
	probe_close(&p);
}

Test(capture, duration_stops_by_itself)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_TEXT);
	o.duration_ms = 1500;
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	double t0 = now_s();
	probe_send(&p, 2, 0);
	/* nobody reads: the capture ends anyway */
	while (!stats_of(c).ended) {
		cr_assert_lt(now_s() - t0, 10.0, "still running 10 s after start with a 1.5 s "
			"duration");
		usleep(50 * 1000);
	}
	cr_assert_geq(now_s() - t0, 1.4, "ended %.2f s after start", now_s() - t0);
	got g = { 0 };
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 0, NULL, 10);
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	cr_assert_eq(g.lines, 2, "%s", g.data);
	cr_assert_eq(stats_of(c).packets, 2);
	devkit_capture_free(c);
	got_free(&g);

	/* and not before its time */
	o.duration_ms = 1200;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	t0 = now_s();
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 0, NULL, 15);
	double took = now_s() - t0;
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	cr_assert_geq(took, 1.1, "ended after %.2f s", took);
	cr_assert_lt(took, 8.0, "ended after %.2f s", took);
	cr_assert_eq(stats_of(c).packets, 0);
	devkit_capture_free(c);
	got_free(&g);
	probe_close(&p);
}

Test(capture, max_packets_stops_after_n)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_TEXT);
	o.max_packets = 3;
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	probe_send(&p, 8, 50);
	got g = { 0 };
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 0, NULL, 20);
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	cr_assert_eq(g.lines, 3, "%s", g.data);
	devkit_capture_stats st = stats_of(c);
	cr_assert_eq(st.packets, 3);
	cr_assert_eq(st.ended, 1);
	/* stop after the end is no error */
	cr_assert_eq(devkit_capture_stop(c), 0, "%s", dt_err());
	devkit_capture_free(c);
	got_free(&g);
	probe_close(&p);
}

Test(capture, stop_on_a_v4_server)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	/* a server before Kubernetes 1.29: stdin cannot be half-closed, the
	 * stop line still gets there */
	const char *saved = devkit__exec_offer;
	devkit__exec_offer = "v4.channel.k8s.io";
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_TEXT);
	devkit_capture *c = NULL;
	int rc = devkit_capture_start(&c, dt_k8s, &o);
	devkit__exec_offer = saved;
	cr_assert_eq(rc, 0, "%s", dt_err());
	probe_send(&p, 2, 20);
	got g = { 0 };
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 2, to_port(&p), 20);
	cr_assert_eq(devkit_capture_stop(c), 0, "%s", dt_err());
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 0, NULL, 20);
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	cr_assert_eq(stats_of(c).packets, 2);
	json_t *all = sessions();
	cr_assert_str_eq(dt_str(last_exec(all), "protocol"), "v4.channel.k8s.io");
	json_decref(all);
	devkit_capture_free(c);
	got_free(&g);
	probe_close(&p);
}

Test(capture, free_while_running_stops_tcpdump)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_TEXT);
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	cr_assert(process_running(p.filter), "tcpdump for %s is not running", p.filter);
	probe_send(&p, 2, 0);
	devkit_capture_free(c); /* neither stopped nor read */
	double until = now_s() + 10;
	while (process_running(p.filter)) {
		cr_assert(now_s() < until, "tcpdump still runs 10 s after devkit_capture_free");
		usleep(100 * 1000);
	}
	probe_close(&p);
}

Test(capture, the_engine_goes_first)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_TEXT);
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	/* the capture ends, and can still be read and freed (the client after
	 * it, in dt_stop) */
	devkit_ctx_free(dt_ctx);
	dt_ctx = NULL;
	got g = { 0 };
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 0, NULL, 20);
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	cr_assert(strstr(g.msg, "shutting down"), "%s", g.msg);
	cr_assert_eq(stats_of(c).ended, 1);
	cr_assert_eq(devkit_capture_stop(c), 0, "%s", dt_err());
	devkit_capture_free(c);
	double until = now_s() + 10;
	while (process_running(p.filter)) {
		cr_assert(now_s() < until, "tcpdump still runs 10 s after the engine went");
		usleep(100 * 1000);
	}
	got_free(&g);
	probe_close(&p);
}

Test(capture, sidecar_is_chosen_by_default)
{
	need_root();
	make_pod("{\"name\":\"app\",\"image\":\"busybox\"},"
		"{\"name\":\"devkit-tcpdump\",\"image\":\"nicolaka/netshoot\"}");
	probe p;
	probe_open(&p);
	devkit_capture_options o = opts_for(&p, DEVKIT_CAPTURE_TEXT);
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	cr_assert_eq(devkit_capture_stop(c), 0, "%s", dt_err());
	got g = { 0 };
	read_into(c, DEVKIT_CAPTURE_TEXT, &g, 0, NULL, 20);
	cr_assert_eq(g.rc, DEVKIT_ECLOSED, "%s", g.msg);
	cr_assert(strstr(g.msg, "(devkit-tcpdump)"), "%s", g.msg);
	devkit_capture_free(c);
	got_free(&g);
	json_t *all = sessions();
	cr_assert_str_eq(dt_str(last_exec(all), "container"), "devkit-tcpdump");
	json_decref(all);

	/* a container named by the caller wins */
	o.container = "app";
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), 0, "%s", dt_err());
	devkit_capture_free(c);
	all = sessions();
	cr_assert_str_eq(dt_str(last_exec(all), "container"), "app");
	json_decref(all);
	probe_close(&p);
}

/* --- failures ------------------------------------------------------------------------ */

Test(capture, bad_filter_is_einval)
{
	need_root();
	make_app_pod();
	devkit_capture_options o = opts_for(NULL, DEVKIT_CAPTURE_TEXT);
	o.filter = "tcp port";
	devkit_capture *c = (devkit_capture *)&o;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), DEVKIT_EINVAL);
	cr_assert_null(c);
	cr_assert(strstr(dt_err(), "syntax error"), "%s", dt_err());
	cr_assert(strstr(dt_err(), "\"tcp port\""), "%s", dt_err());
}

Test(capture, bad_interface_is_enotfound)
{
	need_root();
	make_app_pod();
	devkit_capture_options o = opts_for(NULL, DEVKIT_CAPTURE_TEXT);
	o.interface_name = "nosuch0";
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), DEVKIT_ENOTFOUND, "%s", dt_err());
	cr_assert(strstr(dt_err(), "nosuch0"), "%s", dt_err());
}

Test(capture, missing_pod_is_enotfound)
{
	devkit_capture_options o = opts_for(NULL, DEVKIT_CAPTURE_TEXT);
	o.pod = "nope";
	char file[600];
	snprintf(file, sizeof(file), "%s/never.pcap", dt_api.dir);
	o.file = file;
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), DEVKIT_ENOTFOUND);
	cr_assert(strstr(dt_err(), "pods \"nope\" not found"), "%s", dt_err());
	cr_assert_neq(access(file, F_OK), 0, "a failed start leaves no file behind");
}

Test(capture, no_tcpdump_in_the_container)
{
	/* the mock runs commands with the container's PATH: here, one without
	 * tcpdump (sh itself is found by the mock) */
	make_pod("{\"name\":\"app\",\"image\":\"distroless\",\"env\":[{\"name\":\"PATH\","
		"\"value\":\"/nonexistent\"}]}");
	devkit_capture_options o = opts_for(NULL, DEVKIT_CAPTURE_TEXT);
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), DEVKIT_EUNSUPPORTED, "%s", dt_err());
	cr_assert(strstr(dt_err(), "tcpdump: not found"), "%s", dt_err());
	cr_assert(strstr(dt_err(), "devkit replicate --tcpdump"), "%s", dt_err());
}

Test(capture, not_permitted_is_eforbidden)
{
	/* a container without NET_RAW: tcpdump says what libpcap says then */
	char dir[700], path[800];
	snprintf(dir, sizeof(dir), "%s/fakebin", dt_api.dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/tcpdump", dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs("#!/bin/sh\necho 'tcpdump: lo: You don'\\''t have permission to capture on that "
		"device' >&2\necho '(socket: Operation not permitted)' >&2\nexit 1\n", f);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
	char pod[1200];
	snprintf(pod, sizeof(pod), "{\"name\":\"app\",\"image\":\"busybox\",\"env\":[{\"name\":"
		"\"PATH\",\"value\":\"%s\"}]}", dir);
	make_pod(pod);
	devkit_capture_options o = opts_for(NULL, DEVKIT_CAPTURE_TEXT);
	devkit_capture *c = NULL;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), DEVKIT_EFORBIDDEN, "%s", dt_err());
	cr_assert(strstr(dt_err(), "You don't have permission"), "%s", dt_err());
	cr_assert(strstr(dt_err(), "NET_RAW"), "%s", dt_err());
}

Test(capture, bad_options)
{
	devkit_capture_options o = opts_for(NULL, DEVKIT_CAPTURE_TEXT);
	devkit_capture *c = NULL;
	o.format = 7;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), DEVKIT_EINVAL);
	cr_assert(strstr(dt_err(), "format 7"), "%s", dt_err());
	o = opts_for(NULL, DEVKIT_CAPTURE_TEXT);
	o.interface_name = "lo; reboot";
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), DEVKIT_EINVAL);
	o = opts_for(NULL, DEVKIT_CAPTURE_TEXT);
	o.version = 99;
	cr_assert_eq(devkit_capture_start(&c, dt_k8s, &o), DEVKIT_EINVAL);
	cr_assert_eq(devkit_capture_options_init(&o, 99), DEVKIT_EINVAL);
	cr_assert_eq(devkit_capture_stop(NULL), DEVKIT_EINVAL);
	devkit_capture_free(NULL);
}

/* --- devkit capture ------------------------------------------------------------------- */

static const char *cli_path(void)
{
	static char path[4096];
	const char *dir = getenv("DEVKIT_BUILD_DIR");
	snprintf(path, sizeof(path), "%s/bin/devkit", dir && *dir ? dir : "build");
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

/* devkit ARGS --kubeconfig K, under `timeout -s INT` when interrupt_after_s
 * > 0 (Ctrl-C as a person presses it). */
static void run_cli(int interrupt_after_s, const char *const args[], fx_run_result *r)
{
	static const char *const env[] = { "http_proxy=", "https_proxy=", "HTTP_PROXY=",
		"HTTPS_PROXY=", "ALL_PROXY=", "NO_PROXY=", "KUBECONFIG=/nonexistent/kubeconfig", NULL };
	const char *argv[64];
	char secs[16];
	int n = 0;
	if (interrupt_after_s > 0) {
		snprintf(secs, sizeof(secs), "%d", interrupt_after_s);
		/* --foreground: only devkit gets the signal, once, as from a
		 * terminal (without it timeout signals its whole group too) */
		argv[n++] = "/usr/bin/timeout";
		argv[n++] = "--foreground";
		argv[n++] = "--preserve-status";
		argv[n++] = "-s";
		argv[n++] = "INT";
		argv[n++] = secs;
	}
	argv[n++] = cli_path();
	for (int i = 0; args[i] && n < 60; i++)
		argv[n++] = args[i];
	argv[n++] = "--kubeconfig";
	argv[n++] = fx_k8s_kubeconfig(&dt_api, FX_K8S_KUBECONFIG_DEFAULT);
	argv[n] = NULL;
	cr_assert_eq(fx_run(argv, env, NULL, 90000, r), 0, "cannot run devkit");
	cr_assert(!r->timed_out, "devkit %s did not end in time; stderr: %s", args[0], r->err);
	cr_log_info("devkit %s -> exit %d\nstdout: %s\nstderr: %s", args[0], r->exit_code, r->out,
		r->err);
}

/* Datagrams every 100 ms while a command runs. */
typedef struct sender {
	const probe *p;
	volatile int stop;
	int sent;
	pthread_t thread;
} sender;

static void *send_loop(void *arg)
{
	sender *s = arg;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->p->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	/* bounded: 30 s at most whatever happens to the test */
	for (int i = 0; i < 300 && !s->stop; i++) {
		if (sendto(fd, s->p->payload, strlen(s->p->payload), 0, (struct sockaddr *)&to,
			sizeof(to)) > 0)
			s->sent++;
		usleep(100 * 1000);
	}
	close(fd);
	return NULL;
}

static void sender_start(sender *s, const probe *p)
{
	memset(s, 0, sizeof(*s));
	s->p = p;
	cr_assert_eq(pthread_create(&s->thread, NULL, send_loop, s), 0);
}

static void sender_stop(sender *s)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
}

/* The N of "N packets captured" on devkit's stderr, or -1. */
static long captured_said(const char *err)
{
	const char *at = strstr(err, " packets captured\n");
	if (!at)
		at = strstr(err, " packet captured\n");
	if (!at)
		return -1;
	while (at > err && at[-1] >= '0' && at[-1] <= '9')
		at--;
	return strtol(at, NULL, 10);
}

Test(capture_cli, pcap_file_for_tshark)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	char file[600];
	snprintf(file, sizeof(file), "%s/cli.pcap", dt_api.dir);
	sender s;
	sender_start(&s, &p);
	fx_run_result r;
	run_cli(0, (const char *const[]){ "capture", POD, "-n", "dev", "-i", "lo", "--filter",
		p.filter, "--duration", "3s", "--pcap", file, NULL }, &r);
	sender_stop(&s);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.err, "tcpdump listening on lo in dev/" POD), "%s", r.err);
	cr_assert(strstr(r.err, "written to "), "%s", r.err);
	cr_assert_str_eq(r.out, "", "the pcap goes to the file, nothing to stdout");
	long said = captured_said(r.err);
	int frames;
	char *shown = tshark_frames(file, &p, &frames);
	cr_assert_gt(frames, 5, "3 s of a datagram every 100 ms: %d frames\n%s", frames, shown);
	cr_assert_eq(said, frames, "devkit said %ld packets captured, tshark reads %d", said,
		frames);
	free(shown);
	fx_run_result_free(&r);
	probe_close(&p);
}

Test(capture_cli, pcap_stream_to_stdout)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	sender s;
	sender_start(&s, &p);
	fx_run_result r;
	run_cli(0, (const char *const[]){ "capture", POD, "-i", "lo", "--filter", p.filter,
		"--duration", "2", "--pcap", "-", NULL }, &r);
	sender_stop(&s);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	char file[600];
	snprintf(file, sizeof(file), "%s/stdout.pcap", dt_api.dir);
	FILE *f = fopen(file, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(r.out, 1, r.out_len, f), r.out_len);
	fclose(f);
	int frames;
	char *shown = tshark_frames(file, &p, &frames);
	cr_assert_gt(frames, 3, "%s", shown);
	cr_assert_eq(captured_said(r.err), frames, "%s", r.err);
	free(shown);
	fx_run_result_free(&r);
	probe_close(&p);
}

Test(capture_cli, ctrl_c_stops_cleanly)
{
	need_root();
	make_app_pod();
	probe p;
	probe_open(&p);
	sender s;
	sender_start(&s, &p);
	fx_run_result r;
	run_cli(4, (const char *const[]){ "capture", POD, "-i", "lo", "--filter", p.filter,
		NULL }, &r);
	sender_stop(&s);
	cr_assert_eq(r.exit_code, 0, "Ctrl-C is a normal end: %s", r.err);
	/* text on stdout, one line per packet, and tcpdump's summary at the end */
	int lines = 0;
	for (const char *l = r.out; *l;) {
		const char *nl = strchr(l, '\n');
		cr_assert(nl, "a line without its newline: %s", l);
		cr_assert(strstr(l, to_port(&p)) && strstr(l, to_port(&p)) < nl, "%.*s",
			(int)(nl - l), l);
		lines++;
		l = nl + 1;
	}
	cr_assert_gt(lines, 5, "%s", r.out);
	cr_assert_eq(captured_said(r.err), lines, "%s", r.err);
	cr_assert(strstr(r.err, "dropped by kernel"), "%s", r.err);
	fx_run_result_free(&r);
	probe_close(&p);
}

Test(capture_cli, errors_and_usage)
{
	make_app_pod();
	fx_run_result r;
	run_cli(0, (const char *const[]){ "capture", "nope", NULL }, &r);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "pods \"nope\" not found"), "%s", r.err);
	fx_run_result_free(&r);
	run_cli(0, (const char *const[]){ "capture", NULL }, &r);
	cr_assert_eq(r.exit_code, 2);
	cr_assert(strstr(r.err, "POD is required"), "%s", r.err);
	fx_run_result_free(&r);
	run_cli(0, (const char *const[]){ "capture", POD, "tcp", "port", "80", NULL }, &r);
	cr_assert_eq(r.exit_code, 2);
	cr_assert(strstr(r.err, "--filter"), "%s", r.err);
	fx_run_result_free(&r);
	run_cli(0, (const char *const[]){ "capture", POD, "--count", "0", NULL }, &r);
	cr_assert_eq(r.exit_code, 2);
	fx_run_result_free(&r);
	if (geteuid() != 0)
		return; /* tcpdump's own errors need it to run */
	run_cli(0, (const char *const[]){ "capture", POD, "-i", "lo", "--filter", "tcp port",
		NULL }, &r);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "syntax error"), "%s", r.err);
	fx_run_result_free(&r);
}
