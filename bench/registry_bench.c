/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry benchmark against a real etcd (bench/registry.sh starts one):
 *
 *   cycles   register -> registered -> deregistered, one after another:
 *            libdevkit (devkit_registration_new/wait/close: lease grant, put,
 *            revoke through the engine) against a bare blocking libcurl loop
 *            making the same three requests on one reused connection — the
 *            HTTP client's ceiling, as libssh2_loop is the SSH library's.
 *   hold     N registrations kept alive (TTL 3 s: a keepalive per second each)
 *            for a while: CPU time and RSS of this process per registration.
 *
 *   registry_bench ETCD_HOST:PORT [CYCLES] [HOLD_N] [HOLD_SECONDS]
 * Prints one "key value" line per figure.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <devkit.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static int fail(const char *what)
{
	const devkit_error *e = devkit_error_last();
	fprintf(stderr, "registry_bench: %s: %s\n", what, e ? e->message : "failed");
	return 1;
}

static size_t collect(char *ptr, size_t size, size_t n, void *userdata)
{
	char *buf = userdata;
	size_t len = strlen(buf), add = size * n;
	if (len + add < 4096) {
		memcpy(buf + len, ptr, add);
		buf[len + add] = '\0';
	}
	return size * n;
}

/* One POST with a JSON body on the reused handle; the answer in `answer`. */
static int post(CURL *c, const char *base, const char *path, const char *body, char *answer)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", base, path);
	answer[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
	long status = 0;
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status == 200 ? 0 : -1;
}

/* grant + put + revoke with plain libcurl, `n` times. Returns cycles/s. */
static double curl_cycles(const char *endpoint, int n)
{
	char base[128], answer[4096], body[512];
	snprintf(base, sizeof(base), "http://%s", endpoint);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		if (post(c, base, "/v3/lease/grant", "{\"TTL\":15}", answer) != 0)
			return -1;
		char *id = strstr(answer, "\"ID\":\"");
		if (!id)
			return -1;
		id += 6;
		char lease[32];
		snprintf(lease, sizeof(lease), "%.*s", (int)strcspn(id, "\""), id);
		/* key "/micro/registry/bench/bench-1" and a go-micro value, base64 */
		snprintf(body, sizeof(body), "{\"key\":\"L21pY3JvL3JlZ2lzdHJ5L2JlbmNoL2JlbmNoLTE=\","
			"\"value\":\"eyJuYW1lIjoiYmVuY2gifQ==\",\"lease\":\"%s\"}", lease);
		if (post(c, base, "/v3/kv/put", body, answer) != 0)
			return -1;
		snprintf(body, sizeof(body), "{\"ID\":\"%s\"}", lease);
		if (post(c, base, "/v3/lease/revoke", body, answer) != 0)
			return -1;
	}
	double rate = n / (now_s() - t0);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rate;
}

static double devkit_cycles(devkit_ctx *ctx, const char *url, int n)
{
	devkit_registration_options o = DEVKIT_REGISTRATION_OPTIONS_INIT;
	o.registry = url;
	o.service = "bench";
	o.address = "10.9.9.9";
	o.port = 8080;
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		devkit_registration *r;
		if (devkit_registration_new(&r, ctx, &o) != 0 || devkit_registration_wait(r, 5000) != 0)
			return -1;
		if (devkit_registration_close(r) != 0)
			return -1;
	}
	return n / (now_s() - t0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s ETCD_HOST:PORT [CYCLES] [HOLD_N] [HOLD_SECONDS]\n", argv[0]);
		return 2;
	}
	const char *endpoint = argv[1];
	int cycles = argc > 2 ? atoi(argv[2]) : 300;
	int hold_n = argc > 3 ? atoi(argv[3]) : 1000;
	int hold_s = argc > 4 ? atoi(argv[4]) : 10;
	char url[160];
	snprintf(url, sizeof(url), "etcd://%s", endpoint);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	devkit_ctx *ctx;
	if (devkit_ctx_new(&ctx, NULL) != 0)
		return fail("engine");

	/* Alternate, so that both see the same etcd (its compactions, its caches). */
	double dk[3], cu[3];
	for (int rep = 0; rep < 3; rep++) {
		cu[rep] = curl_cycles(endpoint, cycles);
		dk[rep] = devkit_cycles(ctx, url, cycles);
		if (cu[rep] < 0 || dk[rep] < 0)
			return fail("register cycles");
	}
	/* medians of three */
#define MED(a) ((a)[0] > (a)[1] ? ((a)[1] > (a)[2] ? (a)[1] : (a)[0] > (a)[2] ? (a)[2] : (a)[0]) \
	: ((a)[0] > (a)[2] ? (a)[0] : (a)[1] > (a)[2] ? (a)[2] : (a)[1]))
	printf("cycles_per_s_devkit %.0f\n", MED(dk));
	printf("cycles_per_s_libcurl %.0f\n", MED(cu));
	printf("cycles_ratio %.2f\n", MED(dk) / MED(cu));

	devkit_registration **held = calloc((size_t)hold_n, sizeof(*held));
	long rss0 = rss_kib();
	devkit_registration_options o = DEVKIT_REGISTRATION_OPTIONS_INIT;
	o.registry = url;
	o.service = "bench-hold";
	o.port = 9000;
	o.ttl_ms = 3000;
	char address[32];
	o.address = address;
	for (int i = 0; i < hold_n; i++) {
		snprintf(address, sizeof(address), "10.8.%d.%d", i / 250, i % 250 + 1);
		if (devkit_registration_new(&held[i], ctx, &o) != 0)
			return fail("hold");
	}
	for (int i = 0; i < hold_n; i++)
		if (devkit_registration_wait(held[i], 30000) != 0)
			return fail("hold: wait");
	double c0 = cpu_s(), t0 = now_s();
	sleep((unsigned)hold_s);
	double cpu = cpu_s() - c0, wall = now_s() - t0;
	long rss1 = rss_kib();
	uint64_t beats = 0;
	for (int i = 0; i < hold_n; i++) {
		devkit_registration_stats st = { .version = DEVKIT_REGISTRATION_STATS_VERSION };
		devkit_registration_get_stats(held[i], &st);
		beats += st.heartbeats;
		if (devkit_registration_get_state(held[i]) != DEVKIT_REGISTRATION_REGISTERED)
			return fail("hold: a registration was lost");
	}
	printf("hold_registrations %d\n", hold_n);
	printf("hold_heartbeats_per_s %.0f\n", beats / wall);
	printf("hold_cpu_percent %.1f\n", 100.0 * cpu / wall);
	printf("hold_rss_kib_per_registration %.1f\n", (double)(rss1 - rss0) / hold_n);
	double c1 = cpu_s(), t1 = now_s();
	for (int i = 0; i < hold_n; i++)
		devkit_registration_free(held[i]);
	printf("close_all_seconds %.2f\n", now_s() - t1);
	(void)c1;
	free(held);
	devkit_ctx_free(ctx);
	curl_global_cleanup();
	return 0;
}
