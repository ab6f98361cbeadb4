/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit replicate --wait`: devkit_replica_wait_ready() runs on the main
 * thread, so that its error is this thread's last error and is reported like
 * every other failure; a second thread shows the stages as the library
 * queues them (DEVKIT_EVENT_REPLICA_STAGE, read with devkit_ctx_poll) and
 * watches for Ctrl-C.
 *
 * Ctrl-C: waiting cannot be cancelled inside the library, and nothing needs
 * undoing -- the copy is meant to outlive this process and expires by
 * itself. So the progress thread says what is left and how to delete it,
 * and ends the process at once with status 130.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cli_report.h"
#include "cli_signal.h"
#include "cmd_replica.h"

struct progress {
	struct replicate_cli *t;
	int signal_fd;
	int stop_fds[2];      /* the main thread writes one byte when waiting ended */
	atomic_int stopping;
	pthread_t thread;
};

/* One stage event: a timestamped line, or a JSON event. 0, or -1 when stdout
 * is gone. */
static int report_stage(struct replicate_cli *t, const devkit_event *ev)
{
	const char *stage = cli_or_unknown(devkit_replica_stage_name(ev->state));

	if (!t->json) {
		/* The failure is told in full by the error line that follows. */
		if (ev->state == DEVKIT_REPLICA_FAILED)
			return 0;
		return cli_say("%s/%s %s", devkit_replica_namespace(t->replica), ev->address, stage);
	}
	cli_json_object_begin(&t->out, NULL);
	cli_json_string(&t->out, "event", cli_or_unknown(devkit_event_type_name(ev->type)));
	cli_json_uint(&t->out, "replica", ev->object_id);
	cli_json_string(&t->out, "name", ev->address);
	cli_json_string(&t->out, "namespace", devkit_replica_namespace(t->replica));
	cli_json_string(&t->out, "stage", stage);
	if (ev->error) {
		cli_json_int(&t->out, "error_code", ev->error);
		cli_json_string(&t->out, "error", devkit_strerror(ev->error));
	}
	if (ev->message[0])
		cli_json_string(&t->out, "message", ev->message);
	cli_json_object_end(&t->out);
	return cli_json_write(&t->out, stdout);
}

/* Everything queued; only this replica's stages are shown (log lines go
 * to stderr through the log callback, not the queue). */
static void drain(struct replicate_cli *t)
{
	devkit_event ev;

	while (devkit_ctx_poll(t->ctx, &ev, 0) == 1) {
		if (ev.type == DEVKIT_EVENT_REPLICA_STAGE
			&& ev.object_id == devkit_replica_id(t->replica))
			(void)report_stage(t, &ev);
	}
}

/* What a user needs to find this copy again: the flags that select its
 * cluster and namespace (kubectl takes the same ones), the command that
 * deletes it, and when it expires (the annotation is written from the API
 * server's acceptance, a second or so away from ours). */
struct left_behind {
	char flags[1024];
	char delete_cmd[1400];
	char expires[32];
};

static void left_behind(struct replicate_cli *t, struct left_behind *lb)
{
	const char *name = devkit_replica_name(t->replica);
	time_t at = t->created_at + (time_t)(t->opts.ttl_s ? t->opts.ttl_s : 8u * 3600u);
	struct tm tm;

	cli_k8s_flags_again(&t->k, devkit_replica_namespace(t->replica), lb->flags,
		sizeof(lb->flags));
	snprintf(lb->delete_cmd, sizeof(lb->delete_cmd), "devkit replica delete %s%s", name,
		lb->flags);
	lb->expires[0] = '\0';
	if (gmtime_r(&at, &tm))
		strftime(lb->expires, sizeof(lb->expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void report_interrupted(struct replicate_cli *t, int sig)
{
	struct left_behind lb;

	left_behind(t, &lb);
	cli_errorf("%s: stopped waiting; the replica %s/%s is left in place and expires at %s "
		"(then `devkit gc` deletes it); to delete it now: %s", cli_signal_name(sig),
		devkit_replica_namespace(t->replica), devkit_replica_name(t->replica), lb.expires,
		lb.delete_cmd);
	if (!t->json)
		return;
	cli_json_object_begin(&t->out, NULL);
	cli_json_string(&t->out, "event", "interrupted");
	cli_json_string(&t->out, "signal", cli_signal_name(sig));
	cli_json_uint(&t->out, "replica", devkit_replica_id(t->replica));
	cli_json_string(&t->out, "name", devkit_replica_name(t->replica));
	cli_json_string(&t->out, "namespace", devkit_replica_namespace(t->replica));
	cli_json_string(&t->out, "expires", lb.expires);
	cli_json_string(&t->out, "delete", lb.delete_cmd);
	cli_json_object_end(&t->out);
	(void)cli_json_write(&t->out, stdout);
}

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	int event_fd = devkit_ctx_event_fd(p->t->ctx);

	while (!atomic_load(&p->stopping)) {
		struct pollfd fds[3] = {
			{ p->signal_fd, POLLIN, 0 }, { p->stop_fds[0], POLLIN, 0 }, { event_fd, POLLIN, 0 },
		};

		/* Without an event fd, look at the queue often enough. */
		if (poll(fds, event_fd >= 0 ? 3 : 2, event_fd >= 0 ? 1000 : 100) < 0 && errno != EINTR)
			break;
		drain(p->t);
		if (cli_signal_caught() && !atomic_load(&p->stopping)) {
			report_interrupted(p->t, cli_signal_caught());
			fflush(stdout);
			fflush(stderr);
			/* The main thread is inside the library's wait; ending the
			 * process is the way out (see the top of this file). */
			_exit(REPLICA_EXIT_INTERRUPTED);
		}
	}
	drain(p->t); /* the stages queued before waiting returned */
	return NULL;
}

static int progress_start(struct progress *p, struct replicate_cli *t)
{
	sigset_t old;
	int rc;

	memset(p, 0, sizeof(*p));
	p->t = t;
	atomic_init(&p->stopping, 0);
	p->signal_fd = cli_signals_install();
	if (p->signal_fd < 0 || pipe(p->stop_fds) != 0) {
		cli_errorf("waiting: %s", strerror(errno));
		return -1;
	}
	/* The shutdown signals must reach the main thread's handler, whose pipe
	 * this thread watches; so it starts with them blocked. */
	cli_signals_block(&old);
	rc = pthread_create(&p->thread, NULL, progress_main, p);
	cli_signals_restore(&old);
	if (rc != 0) {
		cli_errorf("waiting: cannot start a thread: %s", strerror(rc));
		close(p->stop_fds[0]);
		close(p->stop_fds[1]);
		return -1;
	}
	return 0;
}

static void progress_stop(struct progress *p)
{
	atomic_store(&p->stopping, 1);
	if (write(p->stop_fds[1], "x", 1) < 0) {
		/* the thread also wakes within a second */
	}
	pthread_join(p->thread, NULL);
	close(p->stop_fds[0]);
	close(p->stop_fds[1]);
}

static int report_ready(struct replicate_cli *t)
{
	struct left_behind lb;

	left_behind(t, &lb);
	if (!t->json)
		return cli_say("ready; it expires at %s; delete it with: %s", lb.expires,
			lb.delete_cmd);
	cli_json_object_begin(&t->out, NULL);
	cli_json_string(&t->out, "event", "ready");
	cli_json_uint(&t->out, "replica", devkit_replica_id(t->replica));
	cli_json_string(&t->out, "name", devkit_replica_name(t->replica));
	cli_json_string(&t->out, "namespace", devkit_replica_namespace(t->replica));
	cli_json_string(&t->out, "expires", lb.expires);
	cli_json_string(&t->out, "delete", lb.delete_cmd);
	cli_json_object_end(&t->out);
	return cli_json_write(&t->out, stdout);
}

/* Not ready: where it stopped and why (the library's message), and what is
 * left. The copy is kept on purpose: it is what there is to look at. */
static void report_not_ready(struct replicate_cli *t, int rc)
{
	struct left_behind lb;

	cli_report_error(&t->out, t->json, stdout, NULL, rc);
	left_behind(t, &lb);
	cli_errorf("the replica is left for you to look at (kubectl describe pod %s%s); it "
		"expires at %s; delete it with: %s", devkit_replica_name(t->replica), lb.flags,
		lb.expires, lb.delete_cmd);
}

int replicate_wait(struct replicate_cli *t)
{
	struct progress p;
	char limit[32];
	int rc;

	replica_human_duration((t->timeout_ms + 999) / 1000, limit, sizeof(limit));
	if (!t->json && cli_say("waiting up to %s for %s/%s to be ready", limit,
		devkit_replica_namespace(t->replica), devkit_replica_name(t->replica)) != 0)
		return CLI_EXIT_FAILURE;
	if (progress_start(&p, t) != 0)
		return CLI_EXIT_FAILURE;
	rc = devkit_replica_wait_ready(t->replica, (int)t->timeout_ms);
	/* The stages first, then the verdict. Stopping the thread makes no
	 * library call here, so the thread's last error is still the wait's. */
	progress_stop(&p);
	if (rc != 0) {
		report_not_ready(t, rc);
		return CLI_EXIT_FAILURE;
	}
	return report_ready(t) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
