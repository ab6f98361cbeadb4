/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port-forward to a Pod port against the Kubernetes API fixture
 * (tests/fixtures/k8s_fixture.h): the fixture's kubelet connects to
 * 127.0.0.1:PORT, this machine's loopback standing in for the Pod's
 * network, where the test runs its own small servers (an echo server, one
 * that greets and hangs up, one that only reads).
 */
#include "k8s_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "k8s_fixture.h"
#include "sshd_fixture.h"

#define POD "db-0"
#define POD_JSON \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" POD "\"," \
	"\"namespace\":\"dev\"},\"spec\":{\"containers\":[{\"name\":\"db\",\"image\":\"postgres\"}]}}"

static fx_daemon api;
static devkit_ctx *ctx;
static devkit_k8s *k8s;

/* Warnings the library logged (a refused port, a missing Pod). */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char warnings[4096];

static void on_log(devkit_log_level level, const char *line, void *payload)
{
	(void)payload;
	if (level > DEVKIT_LOG_WARN)
		return;
	pthread_mutex_lock(&log_lock);
	strncat(warnings, line, sizeof(warnings) - strlen(warnings) - 2);
	strcat(warnings, "\n");
	pthread_mutex_unlock(&log_lock);
}

static int warned(const char *text)
{
	pthread_mutex_lock(&log_lock);
	int found = strstr(warnings, text) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}

static void setup(void)
{
	kt_setup_dir();
	devkit_ctx_options co;
	devkit_ctx_options_init(&co, DEVKIT_CTX_OPTIONS_VERSION);
	co.log_cb = on_log;
	co.log_level = DEVKIT_LOG_WARN;
	cr_assert_eq(devkit_ctx_new(&ctx, &co), 0);
	cr_assert_eq(fx_k8s_start(&api, NULL), 0, "the Kubernetes API fixture did not start "
		"(is its jar built? bash scripts/build_fixtures.sh)");
	cr_assert_eq(fx_k8s_apply(&api, POD_JSON), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&api, FX_K8S_NAMESPACE, POD), 0);
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&api, FX_K8S_KUBECONFIG_DEFAULT);
	cr_assert_eq(devkit_k8s_open(&k8s, ctx, &ko), 0, "%s", kt_err());
}

static void teardown(void)
{
	devkit_k8s_free(k8s);
	k8s = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	fx_daemon_stop(&api);
	kt_remove_dir();
}

TestSuite(portforward, .init = setup, .fini = teardown, .timeout = 240);

/* --- servers "in the Pod" ------------------------------------------------------------- */

typedef enum { ECHO, GREET_AND_CLOSE, SINK } server_kind;

#define MAX_CONNS 64

typedef struct server {
	server_kind kind;
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	int accepted, eofs;       /* connections, and those whose client sent EOF */
	size_t sunk;
	int conn_fd[MAX_CONNS];   /* closed by server_stop, after their threads */
	pthread_t conn_thread[MAX_CONNS];
} server;

typedef struct conn_arg {
	server *s;
	int fd;
} conn_arg;

static void *serve_conn(void *arg)
{
	conn_arg *c = arg;
	server *s = c->s;
	int fd = c->fd;
	free(c);
	char buf[65536];
	if (s->kind == GREET_AND_CLOSE) {
		send(fd, "bye\n", 4, MSG_NOSIGNAL);
		shutdown(fd, SHUT_RDWR);
		return NULL;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			pthread_mutex_lock(&s->lock);
			s->eofs += n == 0;
			pthread_mutex_unlock(&s->lock);
			break;
		}
		if (s->kind == SINK) {
			pthread_mutex_lock(&s->lock);
			s->sunk += (size_t)n;
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	shutdown(fd, SHUT_RDWR);
	return NULL;
}

static void *serve(void *arg)
{
	server *s = arg;
	for (;;) {
		int fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			return NULL; /* closed by server_stop */
		pthread_mutex_lock(&s->lock);
		int i = s->accepted < MAX_CONNS ? s->accepted++ : -1;
		pthread_mutex_unlock(&s->lock);
		if (i < 0) {
			close(fd);
			continue;
		}
		conn_arg *c = malloc(sizeof(*c));
		c->s = s;
		c->fd = fd;
		s->conn_fd[i] = fd;
		pthread_create(&s->conn_thread[i], NULL, serve_conn, c);
	}
}

static void server_start(server *s, server_kind kind)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	pthread_mutex_init(&s->lock, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s->fd, 64), 0);
	socklen_t len = sizeof(a);
	getsockname(s->fd, (struct sockaddr *)&a, &len);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thread, NULL, serve, s);
}

/* Stop accepting, end every connection and wait for their threads: nothing
 * of the server outlives the test's stack frame. */
static void server_stop(server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
	for (int i = 0; i < s->accepted; i++) {
		shutdown(s->conn_fd[i], SHUT_RDWR);
		pthread_join(s->conn_thread[i], NULL);
		close(s->conn_fd[i]);
	}
}

static int server_count(server *s, int *field)
{
	pthread_mutex_lock(&s->lock);
	int v = *field;
	pthread_mutex_unlock(&s->lock);
	return v;
}

/* --- clients on this side ------------------------------------------------------------- */

static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s", strerror(errno));
	struct timeval tv = { .tv_sec = 20 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

typedef struct echo_client {
	int port;
	unsigned int seed;
	size_t size;
	int ok;
	char why[128];
} echo_client;

/* Send `size` bytes while reading them back, then close. */
static void *echo_round_trip(void *arg)
{
	echo_client *c = arg;
	int fd = dial(c->port);
	unsigned char *out = malloc(c->size), *in = malloc(c->size);
	unsigned int x = c->seed;
	for (size_t i = 0; i < c->size; i++) {
		x = x * 1103515245u + 12345u;
		out[i] = (unsigned char)(x >> 16);
	}
	size_t sent = 0, got = 0;
	while (got < c->size) {
		if (sent < c->size) {
			size_t n = c->size - sent < 16384 ? c->size - sent : 16384;
			ssize_t w = send(fd, out + sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				sent += (size_t)w;
		}
		ssize_t r = recv(fd, in + got, c->size - got, sent < c->size ? MSG_DONTWAIT : 0);
		if (r > 0) {
			got += (size_t)r;
		} else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			snprintf(c->why, sizeof(c->why), "recv after %zu of %zu: %s", got, c->size,
				r == 0 ? "EOF" : strerror(errno));
			break;
		} else if (sent >= c->size) {
			continue;
		} else {
			usleep(1000);
		}
	}
	c->ok = got == c->size && memcmp(in, out, c->size) == 0;
	if (got == c->size && !c->ok)
		snprintf(c->why, sizeof(c->why), "the bytes came back different");
	close(fd);
	free(out);
	free(in);
	return NULL;
}

static devkit_pod_forward *forward_to(int pod_port)
{
	devkit_pod_forward *f;
	cr_assert_eq(devkit_pod_forward_start(&f, k8s, NULL, POD, pod_port, NULL, 0), 0, "%s",
		kt_err());
	cr_assert_gt(devkit_pod_forward_port(f), 0);
	return f;
}

/* --- the tests --------------------------------------------------------------------------- */

Test(portforward, concurrent_round_trips)
{
	server s;
	server_start(&s, ECHO);
	devkit_pod_forward *f = forward_to(s.port);
	enum { N = 6 };
	echo_client c[N];
	pthread_t t[N];
	for (int i = 0; i < N; i++) {
		c[i] = (echo_client){ .port = devkit_pod_forward_port(f), .seed = 17u + (unsigned)i,
			.size = (size_t)(64 + i * 200) * 1024 };
		pthread_create(&t[i], NULL, echo_round_trip, &c[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		cr_assert(c[i].ok, "connection %d: %s", i, c[i].why);
	}
	/* One WebSocket, one Pod connection per local connection; each client's
	 * close reached the Pod side as an EOF. */
	cr_assert_eq(server_count(&s, &s.accepted), N);
	for (int i = 0; i < 100 && server_count(&s, &s.eofs) < N; i++)
		usleep(50 * 1000);
	cr_assert_eq(server_count(&s, &s.eofs), N);
	devkit_pod_forward_free(f);
	server_stop(&s);
}

Test(portforward, pod_side_close_reaches_the_client)
{
	server s;
	server_start(&s, GREET_AND_CLOSE);
	devkit_pod_forward *f = forward_to(s.port);
	for (int i = 0; i < 3; i++) {
		int fd = dial(devkit_pod_forward_port(f));
		char buf[64] = "";
		size_t got = 0;
		ssize_t n;
		while ((n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
			got += (size_t)n;
		cr_assert_eq(n, 0, "EOF after the greeting, not an error (%s)", strerror(errno));
		cr_assert_str_eq(buf, "bye\n");
		close(fd);
	}
	devkit_pod_forward_free(f);
	server_stop(&s);
}

Test(portforward, refused_port_closes_the_connection)
{
	/* A port nothing listens on: the kubelet says so on the error channel. */
	server s;
	server_start(&s, ECHO);
	int dead_port = s.port;
	server_stop(&s);
	devkit_pod_forward *f = forward_to(dead_port);
	int fd = dial(devkit_pod_forward_port(f));
	char buf[16];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	cr_assert_leq(n, 0, "closed without data");
	close(fd);
	for (int i = 0; i < 100 && !warned("port-forward to pod dev/" POD); i++)
		usleep(50 * 1000);
	cr_assert(warned("port-forward to pod dev/" POD), "%s", warnings);
	devkit_pod_forward_free(f);
}

Test(portforward, missing_pod_closes_the_connection)
{
	devkit_pod_forward *f;
	cr_assert_eq(devkit_pod_forward_start(&f, k8s, NULL, "nope", 5432, "127.0.0.1", 0), 0,
		"%s", kt_err());
	int fd = dial(devkit_pod_forward_port(f));
	char buf[16];
	cr_assert_leq(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	for (int i = 0; i < 100 && !warned("pods \"nope\" not found"); i++)
		usleep(50 * 1000);
	cr_assert(warned("pods \"nope\" not found"), "%s", warnings);
	devkit_pod_forward_free(f);
}

typedef struct pusher {
	int port;
	volatile int stop;
	size_t pushed;
} pusher;

static void *push(void *arg)
{
	pusher *p = arg;
	int fd = dial(p->port);
	char chunk[16384];
	memset(chunk, 'z', sizeof(chunk));
	while (!p->stop) {
		ssize_t w = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the forward went away under us: that is the test */
		p->pushed += (size_t)w;
	}
	close(fd);
	return NULL;
}

Test(portforward, free_mid_stream)
{
	server s;
	server_start(&s, SINK);
	devkit_pod_forward *f = forward_to(s.port);
	pusher p[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		p[i] = (pusher){ .port = devkit_pod_forward_port(f) };
		pthread_create(&t[i], NULL, push, &p[i]);
	}
	for (int i = 0; i < 200 && server_count(&s, &s.accepted) < 3; i++)
		usleep(20 * 1000);
	usleep(300 * 1000);
	cr_assert_gt(p[0].pushed, 0);
	devkit_pod_forward_free(f);
	/* The clients' connections are closed: their sends fail. */
	for (int i = 0; i < 3; i++) {
		p[i].stop = 1;
		pthread_join(t[i], NULL);
	}
	server_stop(&s);
	/* A new forward on the same client works. */
	server e;
	server_start(&e, ECHO);
	f = forward_to(e.port);
	echo_client c = { .port = devkit_pod_forward_port(f), .seed = 5, .size = 4096 };
	echo_round_trip(&c);
	cr_assert(c.ok, "%s", c.why);
	/* And the engine may go first, the forward's memory after it. */
	devkit_ctx_free(ctx);
	ctx = NULL;
	devkit_pod_forward_free(f);
	server_stop(&e);
}

Test(portforward, bad_arguments)
{
	devkit_pod_forward *f = (devkit_pod_forward *)1;
	cr_assert_eq(devkit_pod_forward_start(&f, k8s, NULL, POD, 0, NULL, 0), DEVKIT_EINVAL);
	cr_assert_null(f);
	cr_assert_eq(devkit_pod_forward_start(&f, k8s, NULL, NULL, 80, NULL, 0), DEVKIT_EINVAL);
	cr_assert_eq(devkit_pod_forward_start(&f, k8s, NULL, POD, 80, "localhost", 0), DEVKIT_EINVAL);
	/* A port in use is refused with EEXISTS. */
	server s;
	server_start(&s, ECHO);
	cr_assert_eq(devkit_pod_forward_start(&f, k8s, NULL, POD, 80, "127.0.0.1", s.port),
		DEVKIT_EEXISTS, "%s", kt_err());
	server_stop(&s);
	cr_assert_eq(devkit_pod_forward_port(NULL), -1);
	devkit_pod_forward_free(NULL);
}

/* --- through a bastion tunnel ----------------------------------------------------------- */

/* The fixture's Pod IP is 127.0.0.1 (its network is this machine's
 * loopback), so a real sshd on loopback plays a bastion inside the Pod
 * network: devkit_pod_forward_start_tunnel reads the IP from the API and
 * forwards with direct-tcpip, not through the API server. */
Test(portforward, through_a_bastion_tunnel)
{
	fx_sshd sshd;
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	devkit_tunnel_options to;
	devkit_tunnel_options_init(&to, DEVKIT_TUNNEL_OPTIONS_VERSION);
	char bastion[128];
	snprintf(bastion, sizeof(bastion), "%s@127.0.0.1:%d", sshd.user, sshd.port);
	to.bastion = bastion;
	to.identity_file = sshd.user_key;
	to.known_hosts_file = sshd.known_hosts;
	to.use_agent = 0;
	devkit_tunnel *t = NULL;
	cr_assert_eq(devkit_tunnel_open(&t, ctx, &to), 0, "%s", kt_err());
	server s;
	server_start(&s, ECHO);
	devkit_pod_forward *f = NULL;
	cr_assert_eq(devkit_pod_forward_start_tunnel(&f, k8s, t, NULL, POD, s.port, NULL, 0), 0,
		"%s", kt_err());
	echo_client c = { .port = devkit_pod_forward_port(f), .seed = 5, .size = 512 * 1024 };
	cr_assert_gt(c.port, 0);
	echo_round_trip(&c);
	cr_assert(c.ok, "%s", c.why);
	/* No port-forward WebSocket was asked of the API server. */
	cr_assert_eq(fx_k8s_count_requests(&api, NULL, "/portforward"), 0);
	devkit_pod_forward_free(f);

	/* A Pod without an IP yet says so. */
	cr_assert_eq(fx_k8s_apply(&api, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"pending\",\"namespace\":\"" FX_K8S_NAMESPACE "\"},\"spec\":{\"containers\":"
		"[{\"name\":\"app\",\"image\":\"busybox\"}]}}"), 0);
	f = NULL;
	int rc = devkit_pod_forward_start_tunnel(&f, k8s, t, NULL, "pending", s.port, NULL, 0);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "rc %d: %s", rc, kt_err());
	cr_assert(strstr(kt_err(), "has no IP yet"), "%s", kt_err());
	cr_assert_null(f);
	devkit_tunnel_free(t);
	server_stop(&s);
	fx_sshd_stop(&sshd);
}
