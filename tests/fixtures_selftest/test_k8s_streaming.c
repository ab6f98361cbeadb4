/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proves the Kubernetes API fixture's streaming endpoints: exec, attach and
 * portforward over WebSocket, and pods/log with follow.
 *
 * Two kinds of client:
 *  - a minimal WebSocket client written here (RFC 6455 over a plain socket:
 *    masked frames, continuation, ping, close) that checks the wire itself:
 *    subprotocol negotiation, channel bytes, the exact Status bodies on the
 *    error channel, the v5 close signal, port prefixes, and the HTTP answers
 *    of refused upgrades;
 *  - the OFFICIAL Kubernetes Python client (tests/python/k8s_streaming_check.py,
 *    kubernetes.stream), over TLS with a bearer token, so that the fixture is
 *    shown to work with a client we did not write.
 *
 * The expected strings are the real server's: where each comes from in the
 * Kubernetes source is said in tests/fixtures/k8s-mock/.../Streams.java.
 */
#define _GNU_SOURCE /* strcasestr, memmem */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "k8s_fixture.h"
#include "net_fixture.h"
#include "proc_fixture.h"

#define NS FX_K8S_NAMESPACE
#define POD "web-1"
#define EXEC "/api/v1/namespaces/" NS "/pods/" POD "/exec"
#define V5 "v5.channel.k8s.io"
#define V4 "v4.channel.k8s.io"

static fx_daemon k8s;
static fx_server *echo;
static fx_server *refused;

static void teardown(void)
{
	fx_daemon_stop(&k8s);
	fx_server_stop(echo);
	fx_server_stop(refused);
	echo = refused = NULL;
}

TestSuite(k8s_streaming, .fini = teardown, .timeout = 180);

/* ---- a minimal WebSocket client ------------------------------------------------ */

typedef struct wsc {
	int fd;
	int status;          /* the handshake's HTTP status */
	int has_protocol;    /* the answer named a subprotocol */
	char protocol[80];   /* which */
	char ctype[80];      /* a refusal's Content-Type ("" if none) */
	char *body;          /* a refusal's body (malloc'd, NUL-terminated) */
	unsigned char *in;   /* received, not parsed yet */
	size_t in_len, in_cap;
} wsc;

/* Read more into w->in; 1 read, 0 EOF, -1 error or timeout. */
static int ws_fill(wsc *w, int timeout_ms)
{
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	int rc;
	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -1;
	if (w->in_cap - w->in_len < 65536) {
		w->in_cap = w->in_cap * 2 + 65536;
		w->in = realloc(w->in, w->in_cap);
		cr_assert_not_null(w->in);
	}
	ssize_t n = recv(w->fd, w->in + w->in_len, w->in_cap - w->in_len, 0);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	w->in_len += (size_t)n;
	return 1;
}

static void ws_consume(wsc *w, size_t n)
{
	memmove(w->in, w->in + n, w->in_len - n);
	w->in_len -= n;
}

/* The value of a header in a head (NUL-terminated), into out; 1 if found. */
static int header(const char *head, const char *name, char *out, size_t cap)
{
	char pat[80];
	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	const char *h = strcasestr(head, pat);
	if (!h)
		return 0;
	h += strlen(pat);
	while (*h == ' ')
		h++;
	size_t n = strcspn(h, "\r\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, h, n);
	out[n] = '\0';
	return 1;
}

/* Open a WebSocket to the fixture: GET path with Upgrade, protocols as the
 * Sec-WebSocket-Protocol header (NULL: none). Returns the HTTP status (101
 * when upgraded); a refusal's body is in w->body. */
static int ws_open(wsc *w, const char *path, const char *protocols)
{
	memset(w, 0, sizeof(*w));
	w->fd = fx_connect_tcp("127.0.0.1", k8s.port);
	cr_assert(w->fd >= 0, "connect to the fixture");
	unsigned char raw[16];
	cr_assert_eq(RAND_bytes(raw, sizeof(raw)), 1);
	char key[32];
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
	char req[4096];
	int n = snprintf(req, sizeof(req),
		"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
		path, k8s.port, key, protocols ? "Sec-WebSocket-Protocol: " : "", protocols ? protocols : "",
		protocols ? "\r\n" : "");
	cr_assert_eq(fx_write_all(w->fd, req, (size_t)n), 0);
	unsigned char *end = NULL;
	/* memmem with a NULL buffer is undefined (UBSan says so), even for 0 bytes. */
	while (!w->in_len || !(end = memmem(w->in, w->in_len, "\r\n\r\n", 4)))
		cr_assert_eq(ws_fill(w, 10000), 1, "no answer to the upgrade of %s", path);
	size_t head_len = (size_t)(end - w->in) + 4;
	char *head = strndup((char *)w->in, head_len);
	ws_consume(w, head_len);
	cr_assert_eq(sscanf(head, "HTTP/1.1 %d", &w->status), 1, "%s", head);
	w->has_protocol = header(head, "Sec-WebSocket-Protocol", w->protocol, sizeof(w->protocol));
	header(head, "Content-Type", w->ctype, sizeof(w->ctype));
	if (w->status == 101) {
		/* RFC 6455: base64(SHA-1(key + GUID)). */
		char accept[64], want[64], cat[128];
		cr_assert(header(head, "Sec-WebSocket-Accept", accept, sizeof(accept)));
		snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
		unsigned char sha[EVP_MAX_MD_SIZE];
		unsigned int sha_len = 0;
		cr_assert_eq(EVP_Digest(cat, strlen(cat), sha, &sha_len, EVP_sha1(), NULL), 1);
		EVP_EncodeBlock((unsigned char *)want, sha, (int)sha_len);
		cr_assert_str_eq(accept, want);
	} else {
		char len[32] = "0";
		header(head, "Content-Length", len, sizeof(len));
		size_t want = (size_t)atol(len);
		while (w->in_len < want && ws_fill(w, 10000) == 1)
			;
		w->body = strndup((char *)w->in, w->in_len < want ? w->in_len : want);
	}
	free(head);
	return w->status;
}

static void ws_close(wsc *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->in);
	free(w->body);
	w->in = NULL;
	w->body = NULL;
}

/* One masked frame from the client. */
static void ws_send(wsc *w, int opcode, const void *data, size_t len)
{
	unsigned char hdr[14];
	size_t h = 0;
	hdr[h++] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		hdr[h++] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(len >> 8);
		hdr[h++] = (unsigned char)len;
	} else {
		hdr[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	unsigned char mask[4];
	cr_assert_eq(RAND_bytes(mask, 4), 1);
	memcpy(hdr + h, mask, 4);
	h += 4;
	unsigned char *frame = malloc(h + len);
	cr_assert_not_null(frame);
	memcpy(frame, hdr, h);
	for (size_t i = 0; i < len; i++)
		frame[h + i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
	cr_assert_eq(fx_write_all(w->fd, frame, h + len), 0);
	free(frame);
}

/* A binary message on a channel: the channel byte, then data. */
static void ws_send_ch(wsc *w, int ch, const char *data, size_t len)
{
	unsigned char *m = malloc(len + 1);
	cr_assert_not_null(m);
	m[0] = (unsigned char)ch;
	memcpy(m + 1, data, len);
	ws_send(w, 0x2, m, len + 1);
	free(m);
}

/* The next whole message (continuations joined; pings answered). Returns
 * its opcode (8: close) with *data malloc'd and *len, or -1 on EOF/timeout. */
static int ws_recv(wsc *w, unsigned char **data, size_t *len, int timeout_ms)
{
	unsigned char *msg = NULL;
	size_t msg_len = 0;
	int msg_op = -1;
	long long deadline = fx_now_ms() + timeout_ms;
	for (;;) {
		if (w->in_len >= 2) {
			unsigned char *b = w->in;
			int fin = b[0] & 0x80, op = b[0] & 0x0f;
			cr_assert_eq(b[1] & 0x80, 0, "a server must not mask its frames");
			uint64_t plen = b[1] & 0x7f;
			size_t h = 2;
			if (plen == 126 && w->in_len >= 4) {
				plen = ((uint64_t)b[2] << 8) | b[3];
				h = 4;
			} else if (plen == 127 && w->in_len >= 10) {
				plen = 0;
				for (int i = 0; i < 8; i++)
					plen = (plen << 8) | b[2 + i];
				h = 10;
			} else if (plen >= 126) {
				h = 0; /* header not complete */
			}
			if (h && w->in_len >= h + plen) {
				if (op == 0x9) { /* ping: pong */
					ws_send(w, 0xA, b + h, plen);
				} else if (op == 0x8 || op == 0xA) {
					if (op == 0x8) {
						*data = malloc(plen + 1);
						memcpy(*data, b + h, plen);
						*len = plen;
						ws_consume(w, h + plen);
						free(msg);
						return 8;
					}
				} else {
					if (op != 0)
						msg_op = op;
					msg = realloc(msg, msg_len + plen + 1);
					memcpy(msg + msg_len, b + h, plen);
					msg_len += plen;
					if (fin) {
						ws_consume(w, h + plen);
						msg[msg_len] = '\0';
						*data = msg;
						*len = msg_len;
						return msg_op;
					}
				}
				ws_consume(w, h + plen);
				continue;
			}
		}
		long long left = deadline - fx_now_ms();
		if (left <= 0 || ws_fill(w, (int)left) != 1) {
			free(msg);
			return -1;
		}
	}
}

/* ---- an exec/attach session read to its end ------------------------------------- */

typedef struct session {
	char out[65536];
	size_t out_len;
	char err[65536];
	size_t err_len;
	char status[8192];   /* the error channel (3), NUL-terminated */
	int first_ch;        /* the channel of the first message */
	size_t first_len;    /* its data length (0: the "connected" hello) */
	int closed;          /* the server sent a close frame */
	int frames;
} session;

static void take(session *s, const unsigned char *m, size_t len)
{
	int ch = m[0];
	if (s->frames++ == 0) {
		s->first_ch = ch;
		s->first_len = len - 1;
	}
	char *dst = ch == 1 ? s->out : ch == 2 ? s->err : ch == 3 ? s->status : NULL;
	size_t *dlen = ch == 1 ? &s->out_len : ch == 2 ? &s->err_len : NULL;
	size_t cap = ch == 3 ? sizeof(s->status) : sizeof(s->out);
	if (!dst)
		return;
	size_t have = dlen ? *dlen : strlen(s->status);
	size_t n = len - 1 < cap - have - 1 ? len - 1 : cap - have - 1;
	memcpy(dst + have, m + 1, n);
	dst[have + n] = '\0';
	if (dlen)
		*dlen += n;
}

/* Read messages until the server closes (or timeout_ms passes). */
static void collect(wsc *w, session *s, int timeout_ms)
{
	memset(s, 0, sizeof(*s));
	s->first_ch = -1;
	long long deadline = fx_now_ms() + timeout_ms;
	for (;;) {
		unsigned char *m = NULL;
		size_t len = 0;
		long long left = deadline - fx_now_ms();
		int op = left > 0 ? ws_recv(w, &m, &len, (int)left) : -1;
		if (op == 8) {
			s->closed = 1;
			/* Answer the close, as a client does. */
			ws_send(w, 0x8, m, len >= 2 ? 2 : 0);
			free(m);
			return;
		}
		if (op < 0)
			return;
		if (len > 0)
			take(s, m, len);
		free(m);
	}
}

/* Wait for one message on channel ch (others are recorded into s); its data
 * NUL-terminated into out. Returns 0, or -1 at the timeout. */
static int wait_ch(wsc *w, int ch, char *out, size_t cap, int timeout_ms)
{
	long long deadline = fx_now_ms() + timeout_ms;
	for (;;) {
		unsigned char *m = NULL;
		size_t len = 0;
		long long left = deadline - fx_now_ms();
		int op = left > 0 ? ws_recv(w, &m, &len, (int)left) : -1;
		if (op < 0 || op == 8) {
			free(m);
			return -1;
		}
		if (len > 0 && m[0] == ch) {
			size_t n = len - 1 < cap - 1 ? len - 1 : cap - 1;
			memcpy(out, m + 1, n);
			out[n] = '\0';
			free(m);
			return 0;
		}
		free(m);
	}
}

/* ---- set-up ------------------------------------------------------------------- */

static void start(const fx_k8s_options *o)
{
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_k8s_start(&k8s, o), 0, "the Kubernetes API server did not start");
	cr_log_info("k8s-mock ready on port %d in %lld ms", k8s.port, fx_now_ms() - t0);
}

/* A Pod with container "app" (stdin: true, so attach can type into it),
 * created, scheduled and running; and "web-pending": scheduled, not running. */
static void pods(void)
{
	cr_assert_eq(fx_k8s_apply(&k8s,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" POD "\"},"
			     "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"registry.local/web:1\","
			     "\"stdin\":true,\"env\":[{\"name\":\"GREETING\",\"value\":\"hi there\"}]}]}}"),
		0);
	cr_assert_eq(fx_k8s_set_pod_running(&k8s, NS, POD), 0);
	cr_assert_eq(fx_k8s_apply(&k8s,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-pending\"},"
			     "\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":\"app\",\"image\":\"x\"}]},"
			     "\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"app\",\"ready\":false,"
			     "\"restartCount\":0,\"image\":\"x\",\"imageID\":\"\",\"state\":{\"waiting\":"
			     "{\"reason\":\"ContainerCreating\"}}}]}}"),
		0);
}

/* Percent-encode a command word for the query. */
static void qenc(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			strchr("-._~", *p)) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

/* EXEC?command=...&command=...&<flags> for the Pod (or another one). */
static const char *exec_path(const char *pod, const char *flags, const char *const cmd[])
{
	static char buf[4][4096];
	static int next;
	char *b = buf[next++ % 4];
	size_t o = (size_t)snprintf(b, sizeof(buf[0]), "/api/v1/namespaces/" NS "/pods/%s/exec?%s", pod,
		flags);
	for (int i = 0; cmd[i]; i++) {
		char enc[1024];
		qenc(cmd[i], enc, sizeof(enc));
		o += (size_t)snprintf(b + o, sizeof(buf[0]) - o, "&command=%s", enc);
	}
	return b;
}

/* Run a command over protocols, to its end. Returns the negotiated protocol. */
static void run(const char *protocols, const char *flags, const char *const cmd[], session *s,
	char *proto_out)
{
	wsc w;
	cr_assert_eq(ws_open(&w, exec_path(POD, flags, cmd), protocols), 101, "%s: %s", protocols,
		w.body ? w.body : "");
	if (proto_out)
		strcpy(proto_out, w.has_protocol ? w.protocol : "");
	collect(&w, s, 20000);
	cr_assert(s->closed, "the server did not close the WebSocket");
	ws_close(&w);
}

/* ---- tests -------------------------------------------------------------------- */

Test(k8s_streaming, subprotocol_negotiation)
{
	start(NULL);
	pods();
	static const char *const cmd[] = { "true", NULL };
	static const struct {
		const char *offer; /* NULL: no header */
		int status;
		const char *chosen; /* NULL: no Sec-WebSocket-Protocol in the answer */
	} cases[] = {
		{ V5 "," V4, 101, V5 },          /* what client-go and the Python client offer */
		{ V4, 101, V4 },                 /* an older client: the kubelet's v4 */
		{ V4 ", " V5, 101, V5 },         /* v5 anywhere: the API server's translator, v5 only */
		{ "channel.k8s.io", 101, "channel.k8s.io" },
		{ "base64.channel.k8s.io, " V4, 101, "base64.channel.k8s.io" }, /* the first supported */
		{ "v4.base64.channel.k8s.io", 101, "v4.base64.channel.k8s.io" },
		{ "foo.k8s.io, v3.channel.k8s.io", 403, NULL }, /* none supported: x/net/websocket's 403 */
		{ NULL, 101, NULL },             /* no header: the legacy "" protocol */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wsc w;
		int st = ws_open(&w, exec_path(POD, "stdout=true", cmd), cases[i].offer);
		cr_assert_eq(st, cases[i].status, "offer %s: status %d", cases[i].offer, st);
		if (cases[i].chosen) {
			cr_assert(w.has_protocol, "offer %s: no protocol chosen", cases[i].offer);
			cr_assert_str_eq(w.protocol, cases[i].chosen, "offer %s", cases[i].offer);
		} else {
			cr_assert_not(w.has_protocol, "offer %s: chose %s", cases[i].offer, w.protocol);
		}
		if (st == 101) {
			session s;
			collect(&w, &s, 10000);
			cr_assert(s.closed);
			/* "Send an empty message to the lowest writable channel". */
			if (strstr(w.protocol, "base64")) {
				cr_assert_eq(s.first_ch, '1');
			} else {
				cr_assert_eq(s.first_ch, 1);
				cr_assert_eq(s.first_len, 0);
			}
		} else {
			cr_assert_str_eq(w.body, "", "a refused handshake has no body");
		}
		ws_close(&w);
	}
	/* Port-forward: the kubelet's set only ("", v4, v4.base64), so the
	 * Python client's offer v5,v4 gets v4. */
	fx_server *e = fx_echo_start();
	cr_assert_not_null(e);
	echo = e;
	char path[200];
	snprintf(path, sizeof(path), "/api/v1/namespaces/" NS "/pods/" POD "/portforward?ports=%d",
		fx_server_port(e));
	wsc w;
	cr_assert_eq(ws_open(&w, path, V5 "," V4), 101);
	cr_assert_str_eq(w.protocol, V4);
	ws_close(&w);
	cr_assert_eq(ws_open(&w, path, V5), 403);
	ws_close(&w);

	/* The sessions say what was negotiated. */
	fx_run_result r;
	cr_assert_eq(fx_k8s_stream_sessions(&k8s, &r), 0);
	json_t *all = json_loads(r.out, 0, NULL);
	fx_run_result_free(&r);
	cr_assert_not_null(all);
	json_t *first = json_array_get(json_object_get(all, "items"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(first, "protocol")), V5);
	cr_assert_str_eq(json_string_value(json_object_get(first, "kind")), "exec");
	json_decref(all);
}

Test(k8s_streaming, exit_code_status_on_the_error_channel)
{
	start(NULL);
	pods();
	session s;
	char proto[80];
	static const char *const fail3[] = { "sh", "-c", "exit 3", NULL };
	/* v4: the kubelet's Status, with containerd's words for the exit. */
	run(V4, "stdout=true&stderr=true", fail3, &s, proto);
	cr_assert_str_eq(proto, V4);
	cr_assert_str_eq(s.status,
		"{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero "
		"exit code: error executing command [sh -c exit 3], exit code 3\",\"reason\":"
		"\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}");
	/* v5: the API server's translator words it over client-go's error. */
	run(V5 "," V4, "stdout=true&stderr=true", fail3, &s, proto);
	cr_assert_str_eq(proto, V5);
	cr_assert_str_eq(s.status,
		"{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero "
		"exit code: command terminated with exit code 3\",\"reason\":\"NonZeroExitCode\","
		"\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}");
	/* Success, with output on both channels. */
	static const char *const ok[] = { "sh", "-c", "echo out; echo err >&2", NULL };
	run(V5, "stdout=true&stderr=true", ok, &s, NULL);
	cr_assert_str_eq(s.out, "out\n");
	cr_assert_str_eq(s.err, "err\n");
	cr_assert_str_eq(s.status, "{\"metadata\":{},\"status\":\"Success\"}");
	/* Go's json.Marshal escapes < > & in the message. */
	static const char *const redirect[] = { "sh", "-c", "echo x >&2; exit 1", NULL };
	run(V4, "stderr=true", redirect, &s, NULL);
	cr_assert(strstr(s.status, "[sh -c echo x \\u003e\\u00262; exit 1], exit code 1"), "%s", s.status);
	cr_assert_eq(s.first_ch, 2, "no stdout asked: the hello goes to stderr");
	/* The pre-v4 protocols carry the message as text, and nothing on success. */
	run(NULL, "stdout=true", fail3, &s, proto);
	cr_assert_str_eq(proto, "");
	cr_assert_str_eq(s.status,
		"command terminated with non-zero exit code: error executing command [sh -c exit 3], "
		"exit code 3");
	static const char *const t[] = { "true", NULL };
	run("channel.k8s.io", "stdout=true", t, &s, NULL);
	cr_assert_str_eq(s.status, "");
	/* A command that is not there: the runtime's error, as InternalError. */
	static const char *const missing[] = { "no-such-command-here", NULL };
	run(V4, "stdout=true", missing, &s, NULL);
	json_t *st = json_loads(s.status, 0, NULL);
	cr_assert_not_null(st, "%s", s.status);
	cr_assert_str_eq(json_string_value(json_object_get(st, "reason")), "InternalError");
	cr_assert_eq(json_integer_value(json_object_get(st, "code")), 500);
	cr_assert(strstr(json_string_value(json_object_get(st, "message")),
		"exec: \"no-such-command-here\": executable file not found in $PATH"));
	json_decref(st);
}

Test(k8s_streaming, stdin_half_close_with_the_v5_close_signal)
{
	start(NULL);
	pods();
	static const char *const cat[] = { "sh", "-c", "cat; echo eof seen", NULL };
	wsc w;
	cr_assert_eq(ws_open(&w, exec_path(POD, "stdin=true&stdout=true", cat), V5), 101);
	ws_send_ch(&w, 0, "hello\n", 6);
	ws_send_ch(&w, 0, "world\n", 6);
	const unsigned char close_stdin[] = { 255, 0 };
	ws_send(&w, 0x2, close_stdin, 2);
	session s;
	collect(&w, &s, 15000);
	ws_close(&w);
	cr_assert(s.closed);
	cr_assert_str_eq(s.out, "hello\nworld\neof seen\n");
	cr_assert_str_eq(s.status, "{\"metadata\":{},\"status\":\"Success\"}");

	/* A malformed close signal (no channel byte) ends the connection. */
	cr_assert_eq(ws_open(&w, exec_path(POD, "stdin=true&stdout=true", cat), V5), 101);
	const unsigned char bad[] = { 255 };
	ws_send(&w, 0x2, bad, 1);
	collect(&w, &s, 15000);
	ws_close(&w);
	cr_assert(s.closed);

	/* v4 has no close signal: {255, 0} is a frame for a channel that does
	 * not exist, ignored; cat only ends when the client goes, and then it
	 * is killed. */
	cr_assert_eq(ws_open(&w, exec_path(POD, "stdin=true&stdout=true", cat), V4), 101);
	ws_send(&w, 0x2, close_stdin, 2);
	ws_send_ch(&w, 0, "still open\n", 11);
	char line[200];
	cr_assert_eq(wait_ch(&w, 1, line, sizeof(line), 10000), 0); /* the hello */
	cr_assert_eq(wait_ch(&w, 1, line, sizeof(line), 10000), 0);
	cr_assert_str_eq(line, "still open\n");
	ws_close(&w);

	/* The sessions record it: the first half-closed, the last was left. */
	json_t *all = NULL, *last = NULL;
	long long deadline = fx_now_ms() + 10000;
	for (;;) {
		fx_run_result r;
		cr_assert_eq(fx_k8s_stream_sessions(&k8s, &r), 0);
		json_decref(all);
		all = json_loads(r.out, 0, NULL);
		fx_run_result_free(&r);
		json_t *items = json_object_get(all, "items");
		last = json_array_get(items, json_array_size(items) - 1);
		if (!json_is_true(json_object_get(last, "active")) || fx_now_ms() > deadline)
			break;
		fx_sleep_ms(50);
	}
	json_t *first = json_array_get(json_object_get(all, "items"), 0);
	cr_assert(json_is_true(json_object_get(first, "stdinClosed")));
	cr_assert_eq(json_integer_value(json_object_get(first, "exitCode")), 0);
	cr_assert(json_is_true(json_object_get(last, "clientClosed")));
	cr_assert_not(json_is_true(json_object_get(last, "stdinClosed")));
	json_decref(all);
}

Test(k8s_streaming, refusals_as_a_real_server_words_them)
{
	start(NULL);
	pods();
	cr_assert_eq(fx_k8s_apply(&k8s,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"unscheduled\"},"
			     "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"x\"}]}}"),
		0);
	cr_assert_eq(fx_k8s_apply(&k8s,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"two\"},"
			     "\"spec\":{\"nodeName\":\"n\",\"initContainers\":[{\"name\":\"init\",\"image\":\"x\"}],"
			     "\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":\"x\"}]},"
			     "\"status\":{\"phase\":\"Running\"}}"),
		0);
	static const char *const t[] = { "true", NULL };
	static const struct {
		const char *pod, *flags, *offer;
		int status;
		const char *ctype; /* "json": a Status, else the exact Content-Type ("" none) */
		const char *message;
	} cases[] = {
		{ "no-such-pod", "stdout=1", V5, 404, "json", "pods \"no-such-pod\" not found" },
		{ "unscheduled", "stdout=1", V5, 400, "json", "pod unscheduled does not have a host assigned" },
		{ POD, "stdout=1&container=nope", V5, 400, "json", "container nope is not valid for pod web-1" },
		{ "two", "stdout=1", V5, 400, "json",
			"a container name must be specified for pod two, choose one of: [init a b]" },
		/* The kubelet's refusals, relayed raw by the API server's proxy. */
		{ "web-pending", "stdout=1", V4, 500, "text/plain; charset=utf-8", "container not found (\"app\")" },
		{ POD, "tty=1&stderr=1", V4, 400, "text/plain; charset=utf-8",
			"you must specify at least 1 of stdin, stdout, stderr" },
		{ "web-pending", "stdout=1", "bogus", 500, "text/plain; charset=utf-8",
			"container not found (\"app\")" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wsc w;
		int st = ws_open(&w, exec_path(cases[i].pod, cases[i].flags, t), cases[i].offer);
		cr_assert_eq(st, cases[i].status, "case %zu: %d %s", i, st, w.body);
		if (strcmp(cases[i].ctype, "json") == 0) {
			json_t *s = json_loads(w.body, 0, NULL);
			cr_assert_not_null(s, "case %zu: %s", i, w.body);
			cr_assert_str_eq(json_string_value(json_object_get(s, "kind")), "Status");
			cr_assert_str_eq(json_string_value(json_object_get(s, "message")), cases[i].message);
			cr_assert_eq(json_integer_value(json_object_get(s, "code")), cases[i].status);
			json_decref(s);
		} else {
			cr_assert_str_eq(w.ctype, cases[i].ctype, "case %zu", i);
			cr_assert_str_eq(w.body, cases[i].message, "case %zu", i);
		}
		ws_close(&w);
	}
	/* v5: the translator upgrades first, then says it on the error channel. */
	session s;
	wsc w;
	cr_assert_eq(ws_open(&w, exec_path("web-pending", "stdout=1", t), V5 "," V4), 101);
	collect(&w, &s, 10000);
	ws_close(&w);
	cr_assert_str_eq(s.status,
		"{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error occurred: unable to "
		"upgrade connection: container not found (\\\"app\\\")\",\"reason\":\"InternalError\","
		"\"details\":{\"causes\":[{\"message\":\"unable to upgrade connection: container not found "
		"(\\\"app\\\")\"}]},\"code\":500}");
	/* Not an upgrade at all. */
	fx_run_result r;
	cr_assert_eq(fx_k8s_get(&k8s, EXEC "?command=ls&stdout=1", &r), 400);
	cr_assert(strstr(r.out, "Upgrade request required"));
	fx_run_result_free(&r);
	/* RBAC: exec needs "create" on pods/exec even as a GET. */
	cr_assert_eq(fx_k8s_forbid(&k8s, "create:pods/exec"), 0);
	cr_assert_eq(ws_open(&w, exec_path(POD, "stdout=1", t), V5), 403);
	cr_assert(strstr(w.body, "cannot create resource \\\"pods/exec\\\" in API group \\\"\\\" in the "
				 "namespace \\\"dev\\\""),
		"%s", w.body);
	ws_close(&w);
}

Test(k8s_streaming, commands_run_in_the_container_sandbox)
{
	start(NULL);
	pods();
	char dir[512];
	cr_assert_not_null(fx_k8s_pod_dir(&k8s, NS, POD, "app", dir, sizeof(dir)));
	char want[600];
	snprintf(want, sizeof(want), "%s/pods/" NS "/" POD "/app", k8s.dir);
	cr_assert_str_eq(dir, want);
	cr_assert_str_eq(fx_k8s_pod_dir(&k8s, NS, POD, NULL, dir, sizeof(dir)), want, "the first container");
	/* A file the test puts there is what the command sees. */
	char file[700];
	snprintf(file, sizeof(file), "%s/config.properties", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fputs("mode=test\n", f);
	fclose(f);
	static const char *const env[] = { "sh", "-c",
		"pwd; echo \"$HOME\"; echo \"$HOSTNAME\"; echo \"$GREETING\"; cat config.properties", NULL };
	session s;
	run(V5, "stdout=1&stderr=1", env, &s, NULL);
	char expect[2000];
	snprintf(expect, sizeof(expect), "%s\n%s\n" POD "\nhi there\nmode=test\n", dir, dir);
	cr_assert_str_eq(s.out, expect);
	/* tar in, as `kubectl cp` does: the files land in the sandbox. */
	char tarball[600];
	snprintf(tarball, sizeof(tarball), "%s/in.tar", k8s.dir);
	char src[600];
	snprintf(src, sizeof(src), "%s/src", k8s.dir);
	cr_assert_eq(mkdir(src, 0755), 0);
	snprintf(file, sizeof(file), "%s/app.jar", src);
	f = fopen(file, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "line %d of a build output\n", i);
	fclose(f);
	const char *tar_argv[] = { "tar", "cf", tarball, "-C", src, "app.jar", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(tar_argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	fx_run_result_free(&r);
	FILE *tf = fopen(tarball, "rb");
	cr_assert_not_null(tf);
	static const char *const untar[] = { "tar", "xf", "-", "-C", "deploy", NULL };
	static const char *const mk[] = { "mkdir", "-p", "deploy", NULL };
	run(V5, "stdout=1&stderr=1", mk, &s, NULL);
	wsc w;
	cr_assert_eq(ws_open(&w, exec_path(POD, "stdin=1&stdout=1&stderr=1", untar), V5), 101);
	char chunk[30000];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), tf)) > 0)
		ws_send_ch(&w, 0, chunk, n);
	fclose(tf);
	const unsigned char close_stdin[] = { 255, 0 };
	ws_send(&w, 0x2, close_stdin, 2);
	collect(&w, &s, 20000);
	ws_close(&w);
	cr_assert_str_eq(s.status, "{\"metadata\":{},\"status\":\"Success\"}", "%s / %s", s.status, s.err);
	const char *cmp_argv[] = { "cmp", file, NULL, NULL };
	char landed[700];
	snprintf(landed, sizeof(landed), "%s/deploy/app.jar", dir);
	cmp_argv[2] = landed;
	cr_assert_eq(fx_run(cmp_argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "the copied file differs: %s", r.out);
	fx_run_result_free(&r);
	/* Large output comes back whole (flow control, many frames). */
	static const char *const big[] = { "cat", "deploy/app.jar", NULL };
	cr_assert_eq(ws_open(&w, exec_path(POD, "stdout=1", big), V5), 101);
	size_t total = 0;
	for (;;) {
		unsigned char *m = NULL;
		size_t len = 0;
		int op = ws_recv(&w, &m, &len, 20000);
		if (op == 8 || op < 0) {
			free(m);
			break;
		}
		if (len > 0 && m[0] == 1)
			total += len - 1;
		free(m);
	}
	ws_close(&w);
	struct stat st;
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(total, (size_t)st.st_size);
	/* The Pod goes: its sandbox goes too. */
	cr_assert_eq(fx_k8s_admin(&k8s, "DELETE", "/api/v1/namespaces/" NS "/pods/" POD, NULL, NULL, &r), 200);
	fx_run_result_free(&r);
	cr_assert_neq(access(dir, F_OK), 0, "%s is still there", dir);
}

Test(k8s_streaming, tty_and_resize)
{
	start(NULL);
	pods();
	static const char *const stty[] = { "sh", "-c", "read go; stty size; exit 4", NULL };
	wsc w;
	cr_assert_eq(ws_open(&w, exec_path(POD, "stdin=1&stdout=1&stderr=1&tty=1", stty), V5), 101);
	const char *size = "{\"Width\":100,\"Height\":30}";
	ws_send_ch(&w, 4, size, strlen(size));
	fx_sleep_ms(200);
	ws_send_ch(&w, 0, "go\n", 3);
	session s;
	collect(&w, &s, 15000);
	ws_close(&w);
	/* A terminal: input echoed, "\r\n" line ends, stderr merged. */
	cr_assert(strstr(s.out, "30 100\r\n"), "%s", s.out);
	cr_assert_str_eq(s.err, "");
	cr_assert(strstr(s.status, "\"message\":\"4\""), "%s", s.status);
	fx_run_result r;
	cr_assert_eq(fx_k8s_stream_sessions(&k8s, &r), 0);
	cr_assert(strstr(r.out, "\"resizes\":[{\"Width\":100,\"Height\":30}]"), "%s", r.out);
	fx_run_result_free(&r);
}

Test(k8s_streaming, attach_to_the_main_process)
{
	start(NULL);
	pods();
	const char *path = "/api/v1/namespaces/" NS "/pods/" POD "/attach?stdin=1&stdout=1&stderr=1";
	wsc a, b;
	cr_assert_eq(ws_open(&a, path, V5), 101);
	cr_assert_eq(ws_open(&b, path, V4), 101);
	char line[200];
	cr_assert_eq(wait_ch(&a, 1, line, sizeof(line), 5000), 0); /* hellos */
	cr_assert_eq(wait_ch(&b, 1, line, sizeof(line), 5000), 0);
	ws_send_ch(&a, 0, "echo main pid $$\n", 17);
	char from_a[200], from_b[200];
	cr_assert_eq(wait_ch(&a, 1, from_a, sizeof(from_a), 10000), 0);
	cr_assert_eq(wait_ch(&b, 1, from_b, sizeof(from_b), 10000), 0);
	cr_assert(strncmp(from_a, "main pid ", 9) == 0, "%s", from_a);
	cr_assert_str_eq(from_a, from_b, "both sessions see one process");
	/* Its output is the container's log too. */
	fx_run_result r;
	cr_assert_eq(fx_k8s_get(&k8s, "/api/v1/namespaces/" NS "/pods/" POD "/log", &r), 200);
	cr_assert_str_eq(r.out, from_a);
	fx_run_result_free(&r);
	/* Detaching leaves it running; a new attach reaches the same one. */
	ws_close(&a);
	wsc c;
	cr_assert_eq(ws_open(&c, path, V5), 101);
	cr_assert_eq(wait_ch(&c, 1, line, sizeof(line), 5000), 0);
	ws_send_ch(&c, 0, "echo main pid $$\n", 17);
	char from_c[200];
	cr_assert_eq(wait_ch(&c, 1, from_c, sizeof(from_c), 10000), 0);
	cr_assert_str_eq(from_c, from_a);
	/* When it exits, every attached session gets Success and the close. */
	ws_send_ch(&c, 0, "exit 0\n", 7);
	session s;
	collect(&c, &s, 10000);
	cr_assert(s.closed);
	cr_assert_str_eq(s.status, "{\"metadata\":{},\"status\":\"Success\"}");
	collect(&b, &s, 10000);
	cr_assert(s.closed);
	cr_assert_str_eq(s.status, "{\"metadata\":{},\"status\":\"Success\"}");
	ws_close(&b);
	ws_close(&c);
}

Test(k8s_streaming, port_forward_to_loopback)
{
	start(NULL);
	pods();
	echo = fx_echo_start();
	refused = fx_refused_start();
	cr_assert(echo && refused);
	int port = fx_server_port(echo);
	char path[300];
	snprintf(path, sizeof(path), "/api/v1/namespaces/" NS "/pods/" POD "/portforward?ports=%d,%d", port,
		fx_server_port(refused));
	wsc w;
	cr_assert_eq(ws_open(&w, path, V4), 101);
	/* First on every channel: the port, 2 bytes little-endian. */
	int ports[2] = { port, fx_server_port(refused) };
	int seen[4] = { 0 };
	char refusal[2000] = "";
	char echoed[200] = "";
	ws_send_ch(&w, 0, "ping 1\n", 7);
	long long deadline = fx_now_ms() + 10000;
	while ((!seen[0] || !seen[1] || !seen[2] || !seen[3] || !refusal[0] || !echoed[0]) &&
		fx_now_ms() < deadline) {
		unsigned char *m = NULL;
		size_t len = 0;
		int op = ws_recv(&w, &m, &len, 10000);
		cr_assert(op == 2, "op %d", op);
		int ch = m[0];
		cr_assert(ch < 4);
		if (!seen[ch]) {
			cr_assert_eq(len, 3, "channel %d: the port prefix", ch);
			cr_assert_eq(m[1] | (m[2] << 8), ports[ch / 2]);
			seen[ch] = 1;
		} else if (ch == 0) {
			snprintf(echoed + strlen(echoed), sizeof(echoed) - strlen(echoed), "%.*s", (int)len - 1,
				(char *)m + 1);
		} else if (ch == 3) {
			snprintf(refusal, sizeof(refusal), "%.*s", (int)len - 1, (char *)m + 1);
		}
		free(m);
	}
	cr_assert_str_eq(echoed, "ping 1\n");
	char want[200];
	snprintf(want, sizeof(want), "error forwarding port %d to pod ", ports[1]);
	cr_assert(strncmp(refusal, want, strlen(want)) == 0, "%s", refusal);
	cr_assert(strstr(refusal, "connect: connection refused"), "%s", refusal);
	/* Data flows both ways, more than one frame's worth. */
	char big[200000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	ws_send_ch(&w, 0, big, sizeof(big));
	size_t got = 0;
	int same = 1;
	while (got < sizeof(big)) {
		unsigned char *m = NULL;
		size_t len = 0;
		cr_assert_eq(ws_recv(&w, &m, &len, 10000), 2);
		if (m[0] == 0) {
			same &= memcmp(m + 1, big + got, len - 1) == 0;
			got += len - 1;
		}
		free(m);
	}
	cr_assert(same);
	/* The client goes: the forwarded connection is closed. */
	ws_close(&w);
	cr_assert_eq(fx_server_wait_idle(echo, 10000), 0);

	/* Not Running: the kubelet finds no sandbox. */
	char pend[300];
	snprintf(pend, sizeof(pend), "/api/v1/namespaces/" NS "/pods/web-pending/portforward?ports=%d", port);
	cr_assert_eq(ws_open(&w, pend, V4), 500);
	const char *why = "failed to find sandboxID for pod web-pending_" NS "(";
	cr_assert(strncmp(w.body, why, strlen(why)) == 0, "%s", w.body);
	ws_close(&w);
	cr_assert_eq(ws_open(&w, "/api/v1/namespaces/" NS "/pods/" POD "/portforward", V4), 400);
	cr_assert_str_eq(w.body, "query parameter \"port\" is required");
	ws_close(&w);
}

/* ---- pods/log ------------------------------------------------------------------ */

typedef struct follow {
	int fd;
	char body[65536]; /* decoded so far */
	size_t len;
	char raw[65536];  /* undecoded chunked bytes */
	size_t raw_len;
	int status;
	int ended; /* the last chunk came */
} follow;

static void follow_open(follow *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->fd = fx_connect_tcp("127.0.0.1", k8s.port);
	cr_assert(f->fd >= 0);
	char req[1024];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	cr_assert_eq(fx_write_all(f->fd, req, (size_t)n), 0);
	char *end;
	while (!(end = memmem(f->raw, f->raw_len, "\r\n\r\n", 4))) {
		ssize_t r = recv(f->fd, f->raw + f->raw_len, sizeof(f->raw) - f->raw_len - 1, 0);
		cr_assert(r > 0);
		f->raw_len += (size_t)r;
	}
	f->raw[f->raw_len] = '\0';
	cr_assert_eq(sscanf(f->raw, "HTTP/1.1 %d", &f->status), 1);
	cr_assert(strcasestr(f->raw, "Transfer-Encoding: chunked"), "%s", f->raw);
	size_t head = (size_t)(end - f->raw) + 4;
	memmove(f->raw, f->raw + head, f->raw_len - head);
	f->raw_len -= head;
}

/* Decode chunks until the body holds `lines` newlines; 0, -1 at the
 * timeout, -2 when the response ended first. */
static int follow_lines(follow *f, int lines, int timeout_ms)
{
	long long deadline = fx_now_ms() + timeout_ms;
	for (;;) {
		/* decode what is complete */
		for (;;) {
			char *crlf = memmem(f->raw, f->raw_len, "\r\n", 2);
			if (!crlf)
				break;
			size_t size = strtoul(f->raw, NULL, 16);
			size_t hl = (size_t)(crlf - f->raw) + 2;
			if (f->raw_len < hl + size + 2)
				break;
			if (size == 0)
				f->ended = 1;
			memcpy(f->body + f->len, f->raw + hl, size);
			f->len += size;
			f->body[f->len] = '\0';
			memmove(f->raw, f->raw + hl + size + 2, f->raw_len - hl - size - 2);
			f->raw_len -= hl + size + 2;
		}
		int have = 0;
		for (size_t i = 0; i < f->len; i++)
			have += f->body[i] == '\n';
		if (have >= lines)
			return 0;
		if (f->ended)
			return -2;
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		long long left = deadline - fx_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		ssize_t r = recv(f->fd, f->raw + f->raw_len, sizeof(f->raw) - f->raw_len, 0);
		if (r <= 0)
			return -1;
		f->raw_len += (size_t)r;
	}
}

static void expect_stamped(const char *body, const char *const texts[])
{
	regex_t re;
	cr_assert_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z (.*)$",
			     REG_EXTENDED | REG_NEWLINE),
		0);
	const char *p = body;
	for (int i = 0; texts[i]; i++) {
		regmatch_t m[2];
		cr_assert_eq(regexec(&re, p, 2, m, 0), 0, "line %d not stamped: %s", i, p);
		cr_assert_eq(m[0].rm_so, 0, "%s", p);
		cr_assert_eq((size_t)(m[1].rm_eo - m[1].rm_so), strlen(texts[i]), "%s", p);
		cr_assert(strncmp(p + m[1].rm_so, texts[i], strlen(texts[i])) == 0, "%s", p);
		p += m[0].rm_eo + 1;
	}
	cr_assert_str_eq(p, "");
	regfree(&re);
}

Test(k8s_streaming, log_follow_live_with_timestamps)
{
	start(NULL);
	pods();
	cr_assert_eq(fx_k8s_append_pod_log(&k8s, NS, POD, "app", "started\nlistening on 8080\n"), 0);
	follow f;
	follow_open(&f, "/api/v1/namespaces/" NS "/pods/" POD "/log?follow=true&timestamps=true&tailLines=1");
	cr_assert_eq(f.status, 200);
	cr_assert_eq(follow_lines(&f, 1, 5000), 0);
	/* Appends arrive while the request is open. */
	cr_assert_eq(fx_k8s_append_pod_log(&k8s, NS, POD, "app", "GET /health 200\n"), 0);
	cr_assert_eq(follow_lines(&f, 2, 5000), 0, "%s", f.body);
	cr_assert_eq(fx_k8s_append_pod_log(&k8s, NS, POD, "app", "GET /orders 500\n"), 0);
	cr_assert_eq(follow_lines(&f, 3, 5000), 0, "%s", f.body);
	static const char *const want[] = { "listening on 8080", "GET /health 200", "GET /orders 500", NULL };
	expect_stamped(f.body, want);
	/* The container stops: the follow ends, as the kubelet's does. */
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, NS, POD,
			     "{\"containerStatuses\":[{\"name\":\"app\",\"ready\":false,\"restartCount\":1,"
			     "\"image\":\"x\",\"imageID\":\"\",\"state\":{\"terminated\":{\"exitCode\":1,"
			     "\"reason\":\"Error\"}}}]}"),
		0);
	cr_assert_eq(follow_lines(&f, 4, 5000), -2, "the response ends, with no 4th line");
	close(f.fd);

	/* Without follow: tailLines, sinceSeconds, limitBytes. */
	fx_run_result r;
	cr_assert_eq(fx_k8s_get(&k8s, "/api/v1/namespaces/" NS "/pods/" POD "/log?tailLines=2", &r), 200);
	cr_assert_str_eq(r.out, "GET /health 200\nGET /orders 500\n");
	fx_run_result_free(&r);
	cr_assert_eq(fx_k8s_get(&k8s, "/api/v1/namespaces/" NS "/pods/" POD "/log?limitBytes=10", &r), 200);
	cr_assert_str_eq(r.out, "started\nli");
	fx_run_result_free(&r);
	/* sinceTime (whole seconds, as the API has it) and sinceSeconds: the
	 * lines so far are older than the next second. */
	time_t boundary = time(NULL) + 1;
	while (time(NULL) < boundary + 2)
		fx_sleep_ms(50);
	cr_assert_eq(fx_k8s_append_pod_log(&k8s, NS, POD, "app", "late\n"), 0);
	char since[200];
	struct tm tm;
	gmtime_r(&boundary, &tm);
	strftime(since, sizeof(since),
		"/api/v1/namespaces/" NS "/pods/" POD "/log?sinceTime=%Y-%m-%dT%H:%M:%SZ", &tm);
	cr_assert_eq(fx_k8s_get(&k8s, since, &r), 200);
	cr_assert_str_eq(r.out, "late\n");
	fx_run_result_free(&r);
	cr_assert_eq(fx_k8s_get(&k8s, "/api/v1/namespaces/" NS "/pods/" POD "/log?sinceSeconds=2", &r), 200);
	cr_assert_str_eq(r.out, "late\n");
	fx_run_result_free(&r);
	cr_assert_eq(fx_k8s_get(&k8s, "/api/v1/namespaces/" NS "/pods/" POD "/log?sinceSeconds=3600", &r),
		200);
	cr_assert_str_eq(r.out, "started\nlistening on 8080\nGET /health 200\nGET /orders 500\nlate\n");
	fx_run_result_free(&r);

	/* previous=true: the kubelet's 400 until there is a terminated
	 * previous container; then its own log. */
	cr_assert_eq(fx_k8s_get(&k8s, "/api/v1/namespaces/" NS "/pods/" POD "/log?previous=true", &r), 400);
	json_t *s = json_loads(r.out, 0, NULL);
	fx_run_result_free(&r);
	cr_assert_str_eq(json_string_value(json_object_get(s, "reason")), "BadRequest");
	cr_assert_str_eq(json_string_value(json_object_get(s, "message")),
		"previous terminated container \"app\" in pod \"" POD "\" not found");
	json_decref(s);
	cr_assert_eq(fx_k8s_set_pod_previous_log(&k8s, NS, POD, "app", "panic: boom\n"), 0);
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, NS, POD,
			     "{\"containerStatuses\":[{\"name\":\"app\",\"ready\":true,\"restartCount\":1,"
			     "\"image\":\"x\",\"imageID\":\"\",\"state\":{\"running\":{}},\"lastState\":"
			     "{\"terminated\":{\"exitCode\":2,\"reason\":\"Error\",\"containerID\":\"containerd://1\"}}}]}"),
		0);
	cr_assert_eq(fx_k8s_get(&k8s, "/api/v1/namespaces/" NS "/pods/" POD "/log?previous=true", &r), 200);
	cr_assert_str_eq(r.out, "panic: boom\n");
	fx_run_result_free(&r);
	/* A line written in two pieces is one line, stamped once. */
	cr_assert_eq(fx_k8s_append_pod_log(&k8s, NS, POD, "app", "half a line"), 0);
	const char *tail1 = "/api/v1/namespaces/" NS "/pods/" POD "/log?tailLines=1&timestamps=true";
	cr_assert_eq(fx_k8s_get(&k8s, tail1, &r), 200);
	char first_piece[200];
	snprintf(first_piece, sizeof(first_piece), "%s", r.out);
	cr_assert_eq(strlen(first_piece), 31 + strlen("half a line"), "%s", first_piece);
	fx_run_result_free(&r);
	cr_assert_eq(fx_k8s_append_pod_log(&k8s, NS, POD, "app", " and the rest\n"), 0);
	cr_assert_eq(fx_k8s_get(&k8s, tail1, &r), 200);
	static const char *const joined[] = { "half a line and the rest", NULL };
	expect_stamped(r.out, joined);
	cr_assert(strncmp(r.out, first_piece, 30) == 0, "one timestamp: %s / %s", first_piece, r.out);
	fx_run_result_free(&r);
	/* A container still being created: the kubelet's words. */
	cr_assert_eq(fx_k8s_get(&k8s, "/api/v1/namespaces/" NS "/pods/web-pending/log", &r), 400);
	cr_assert(strstr(r.out, "container \\\"app\\\" in pod \\\"web-pending\\\" is waiting to start: "
				"ContainerCreating"),
		"%s", r.out);
	fx_run_result_free(&r);
}

Test(k8s_streaming, stopped_container_ends_its_exec)
{
	start(NULL);
	pods();
	static const char *const sleep_cmd[] = { "sleep", "60", NULL };
	wsc w;
	cr_assert_eq(ws_open(&w, exec_path(POD, "stdout=1", sleep_cmd), V5), 101);
	fx_sleep_ms(300);
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, NS, POD,
			     "{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"app\",\"ready\":false,"
			     "\"restartCount\":0,\"image\":\"x\",\"imageID\":\"\",\"state\":{\"terminated\":"
			     "{\"exitCode\":137,\"reason\":\"OOMKilled\"}}}]}"),
		0);
	session s;
	collect(&w, &s, 10000);
	ws_close(&w);
	cr_assert(s.closed);
	cr_assert(strstr(s.status, "\"reason\":\"ExitCode\",\"message\":\"137\""), "%s", s.status);
}

/* ---- the official client --------------------------------------------------------- */

static const char *source_dir(void)
{
	static char dir[1024];
	const char *env = getenv("DEVKIT_SOURCE_DIR");
	if (env && *env)
		return env;
	/* tests/fixtures_selftest/test_k8s_streaming.c -> the source root */
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
	return dir;
}

Test(k8s_streaming, official_python_client)
{
	fx_k8s_options o = { .tls = 1, .token = "stream-token" };
	start(&o);
	pods();
	char dir[512], script[1200];
	cr_assert_not_null(fx_k8s_pod_dir(&k8s, NS, POD, "app", dir, sizeof(dir)));
	snprintf(script, sizeof(script), "%s/tests/python/k8s_streaming_check.py", source_dir());
	const char *argv[] = { "python3", script, "--kubeconfig",
		fx_k8s_kubeconfig(&k8s, FX_K8S_KUBECONFIG_DEFAULT), "--namespace", NS, "--pod", POD,
		"--container", "app", "--pod-dir", dir, "--pending-pod", "web-pending", NULL };
	/* The client must not go through a proxy a developer has set. */
	const char *env[] = { "NO_PROXY=*", "no_proxy=*", "HTTPS_PROXY=", "https_proxy=", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, env, NULL, 150000, &r), 0);
	cr_log_info("%s%s", r.out, r.err);
	cr_assert_neq(r.exit_code, 2, "the kubernetes Python client is missing: run scripts/setup.sh\n%s",
		r.out);
	cr_assert_eq(r.exit_code, 0, "the official client failed:\n%s\n%s", r.out, r.err);
	static const char *const checks[] = { "exec_channels_exit_code_v5", "exec_v4_when_only_v4_offered",
		"exec_stdin_half_close_v5", "exec_tar_copy_into_sandbox", "exec_missing_pod_404",
		"exec_pending_pod_refused", "attach_main_process", "portforward_round_trip",
		"portforward_refused_port_error", "log_follow_live_with_timestamps", "log_previous_refused", NULL };
	for (int i = 0; checks[i]; i++) {
		char line[120];
		snprintf(line, sizeof(line), "ok %s:", checks[i]);
		cr_assert(strstr(r.out, line), "missing \"%s\" in:\n%s", line, r.out);
	}
	fx_run_result_free(&r);
	/* It went through the front door, authenticated by the token. */
	cr_assert(fx_k8s_count_requests(&k8s, "GET", "/exec?") >= 6);
	fx_run_result sessions;
	cr_assert_eq(fx_k8s_stream_sessions(&k8s, &sessions), 0);
	cr_assert(strstr(sessions.out, "\"protocol\":\"v5.channel.k8s.io\""));
	cr_assert(strstr(sessions.out, "\"protocol\":\"v4.channel.k8s.io\""));
	fx_run_result_free(&sessions);
}
