/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes part of `devkit up`: the client, then each replica in the
 * order written — created (devkit_replica_create), then ready
 * (devkit_replica_wait_ready) — and on the way down, deleted, waiting until
 * each is gone.
 *
 * Both library calls block, wait_ready for as long as the Pod takes. They run
 * on a worker thread so that the loop keeps reporting the replica's stage
 * events as they happen, answering `devkit status` and noticing Ctrl-C. The
 * worker waits in slices and checks a cancel flag between them: a Ctrl-C
 * while an image is pulling stops within a slice, and the replica is then
 * deleted like everything else.
 *
 * A replica that cannot start is fatal for `devkit up`: the environment the
 * file describes cannot exist without it. It is reported with the library's
 * message (stage reached, conditions, the container's reason, the latest
 * events) and deleted with the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_report.h"
#include "cli_signal.h"
#include "cmd_up.h"

/* How long one wait_ready call may take before the cancel flag is looked at. */
#define SLICE_MS 1000
/* How long deleting a replica may take (a kubelet's grace period is 30 s). */
#define DELETE_TIMEOUT_MS 90000

static void notify(struct up_worker *w, char what)
{
	ssize_t n;

	do
		n = write(w->done_fds[1], &what, 1);
	while (n < 0 && errno == EINTR);
}

static void keep_message(struct up_worker *w, int rc)
{
	cli_lib_error_text(rc, w->message, sizeof(w->message));
	cli_printable(w->message);
}

static void *worker_main(void *arg)
{
	struct up_worker *w = arg;
	long long deadline;
	int rc;

	rc = devkit_replica_create(&w->replica, w->k8s, w->rep->opts);
	if (rc != 0) {
		w->replica = NULL;
		keep_message(w, rc);
		w->rc = rc;
		notify(w, 'd');
		return NULL;
	}
	notify(w, 'c');
	deadline = cli_now_ms() + w->timeout_ms;
	for (;;) {
		long long left = deadline - cli_now_ms();

		rc = devkit_replica_wait_ready(w->replica, left < SLICE_MS ? (int)(left > 0 ? left : 1)
			: SLICE_MS);
		if (rc != DEVKIT_ETIMEOUT || __atomic_load_n(&w->cancel, __ATOMIC_ACQUIRE)
			|| cli_now_ms() >= deadline)
			break;
	}
	if (rc != 0)
		keep_message(w, rc);
	w->rc = rc;
	notify(w, 'd');
	return NULL;
}

static int start_worker(struct up_cli *u, struct up_replica *rep)
{
	struct up_worker *w = &u->worker;
	sigset_t old;
	int rc;

	memset(w, 0, sizeof(*w));
	w->done_fds[0] = w->done_fds[1] = -1;
	if (pipe(w->done_fds) != 0) {
		up_report_failure(u, "pipe: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++)
		fcntl(w->done_fds[i], F_SETFD, FD_CLOEXEC);
	fcntl(w->done_fds[0], F_SETFL, fcntl(w->done_fds[0], F_GETFL) | O_NONBLOCK);
	w->rep = rep;
	w->k8s = u->k8s;
	w->timeout_ms = u->replica_timeout_ms;
	/* Signals stay with the main thread and its self-pipe. */
	cli_signals_block(&old);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	cli_signals_restore(&old);
	if (rc != 0) {
		up_report_failure(u, "starting a thread: %s", strerror(rc));
		close(w->done_fds[0]);
		close(w->done_fds[1]);
		return -1;
	}
	w->running = 1;
	return 0;
}

static void adopt(struct up_cli *u)
{
	struct up_worker *w = &u->worker;
	struct up_replica *rep = w->rep;

	rep->replica = w->replica;
	rep->id = devkit_replica_id(rep->replica);
	snprintf(rep->name, sizeof(rep->name), "%s", devkit_replica_name(rep->replica));
	snprintf(rep->ns, sizeof(rep->ns), "%s", devkit_replica_namespace(rep->replica));
	if (up_report_replica(u, rep, "created") != 0)
		u->stdout_gone = 1;
}

void up_worker_notified(struct up_cli *u)
{
	struct up_worker *w = &u->worker;
	char bytes[8];
	ssize_t n;

	while ((n = read(w->done_fds[0], bytes, sizeof(bytes))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (bytes[i] == 'c' && !w->seen_created) {
				w->seen_created = 1;
				adopt(u);
			} else if (bytes[i] == 'd') {
				w->seen_done = 1;
			}
		}
	}
}

/* Join the worker (after 'd', or after asking it to stop). */
static void join_worker(struct up_cli *u)
{
	struct up_worker *w = &u->worker;

	if (!w->running)
		return;
	__atomic_store_n(&w->cancel, 1, __ATOMIC_RELEASE);
	pthread_join(w->thread, NULL);
	/* What it wrote last: a 'c' not read yet must still be adopted, so that
	 * the replica is deleted with the rest. */
	up_worker_notified(u);
	w->running = 0;
	close(w->done_fds[0]);
	close(w->done_fds[1]);
	w->done_fds[0] = w->done_fds[1] = -1;
}

static enum up_end bring_up_one(struct up_cli *u, size_t i)
{
	struct up_replica *rep = &u->replicas[i];
	enum up_end end = UP_GO_ON;

	rep->opts = devkit_config_replica(u->cfg, i);
	up_replica_source(rep->opts, rep->source, sizeof(rep->source));
	if (up_report_replica(u, rep, "creating") != 0)
		return UP_END_OUTPUT;
	if (start_worker(u, rep) != 0)
		return UP_END_ERROR;
	while (!u->worker.seen_done && end == UP_GO_ON && !u->stdout_gone)
		end = up_pump(u, -1);
	join_worker(u);
	if (u->stdout_gone && end == UP_GO_ON)
		end = UP_END_OUTPUT;
	if (end != UP_GO_ON)
		return end;
	if (u->worker.rc != 0) {
		/* "replicas[0] deployment/orders: replica team-a/orders-alice-x2b4c:
		 * cannot get further: ...; stage reached: ...; events: ..." */
		if (u->worker.rc == DEVKIT_ETIMEOUT)
			up_report_failure(u, "replicas[%zu] %s: not ready within %d s: %s", i, rep->source,
				u->replica_timeout_ms / 1000, u->worker.message);
		else
			up_report_failure(u, "replicas[%zu] %s: %s", i, rep->source, u->worker.message);
		snprintf(rep->last_error, sizeof(rep->last_error), "%.*s",
			(int)sizeof(rep->last_error) - 1, u->worker.message);
		return UP_END_ERROR;
	}
	return UP_GO_ON;
}

enum up_end up_replicas_start(struct up_cli *u)
{
	enum up_end end;
	int rc;

	rc = devkit_k8s_open(&u->k8s, u->ctx, devkit_config_kubernetes(u->cfg));
	if (rc != 0) {
		u->k8s = NULL;
		up_report_error(u, "kubernetes", rc);
		return UP_END_ERROR;
	}
	if (up_report_kubernetes(u) != 0)
		return UP_END_OUTPUT;
	for (size_t i = 0; i < u->n_replicas; i++) {
		if ((end = bring_up_one(u, i)) != UP_GO_ON)
			return end;
	}
	return UP_GO_ON;
}

int up_replicas_stop(struct up_cli *u)
{
	int left = 0;

	join_worker(u); /* only when bring-up was cut short */
	for (size_t i = u->n_replicas; i-- > 0;) {
		struct up_replica *rep = &u->replicas[i];
		char where[600], why[1024];
		int rc;

		if (!rep->replica)
			continue;
		snprintf(where, sizeof(where), "%s/%s", rep->ns, rep->name);
		rc = devkit_replica_delete(rep->replica, DELETE_TIMEOUT_MS);
		if (rc != 0) {
			cli_lib_error_text(rc, why, sizeof(why));
			left++;
		}
		devkit_replica_free(rep->replica);
		rep->replica = NULL;
		up_drain(u);
		up_report_stopped(u, "replica", where, rc, rc ? why : "deleted");
	}
	devkit_k8s_free(u->k8s);
	u->k8s = NULL;
	return left;
}
