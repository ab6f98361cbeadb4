/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one poll() loop of `devkit up`, turned by bring-up between its steps
 * and by the live status afterwards: a shutdown signal (self-pipe), the
 * library's events, `devkit status` clients, the replica worker.
 *
 * What counts as news: the progress lines already say that the tunnel came
 * up and where each forward listens, so the open's own "connecting"/"up"
 * and each forward's first "forward-ready" are folded; so are the stage and
 * state events that a progress or teardown line of ours words better. Every
 * later change (a reconnect, a registry that went away, a replica that
 * failed) is reported as it happens.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "cli_report.h"
#include "cli_signal.h"
#include "cmd_up.h"

/* Events handled per turn, so a flood cannot delay a Ctrl-C. */
#define DRAIN_MAX 256

static int fold_forward_ready(struct up_cli *u, uint64_t id)
{
	for (size_t i = 0; i < u->n_folded; i++) {
		if (u->folded[i] == id)
			return 0;
	}
	if (u->n_folded == UP_MAX_FOLDED)
		return 0;
	u->folded[u->n_folded++] = id;
	return 1;
}

/* 1: do not report this event, a line of ours says it. */
static int fold(struct up_cli *u, const devkit_event *ev)
{
	/* Teardown lines say what was removed; JSON keeps the library's events. */
	int stopping_text = u->phase == UP_STOPPING && !u->json;

	switch (ev->type) {
	case DEVKIT_EVENT_TUNNEL_STATE:
		if (ev->state == DEVKIT_TUNNEL_CONNECTING && !u->folded_connecting)
			return u->folded_connecting = 1;
		if (ev->state == DEVKIT_TUNNEL_UP && !u->folded_up)
			return u->folded_up = 1;
		return ev->state == DEVKIT_TUNNEL_CLOSED && stopping_text;
	case DEVKIT_EVENT_FORWARD_READY:
		return fold_forward_ready(u, ev->forward_id);
	case DEVKIT_EVENT_REGISTRATION_STATE:
		if (ev->state == DEVKIT_REGISTRATION_REGISTERING && u->phase == UP_STARTING)
			return 1; /* "registering at ..." said it */
		return ev->state == DEVKIT_REGISTRATION_DEREGISTERED && !ev->error && stopping_text;
	case DEVKIT_EVENT_REPLICA_STAGE:
		if (ev->state == DEVKIT_REPLICA_CREATED)
			return 1; /* "created ns/name" said it */
		return ev->state == DEVKIT_REPLICA_DELETED && stopping_text;
	default:
		return 0;
	}
}

/* Keep what the status shows in step with the event. */
static void note(struct up_cli *u, const devkit_event *ev)
{
	struct up_forward *f;
	struct up_expose *e;
	struct up_replica *r;

	switch (ev->type) {
	case DEVKIT_EVENT_FORWARD_READY:
		/* After a reconnect the bastion may pick another port for a remote 0. */
		if ((f = up_find_forward(u, ev->forward_id)) != NULL) {
			f->port = ev->port;
			if (ev->address[0])
				snprintf(f->address, sizeof(f->address), "%s", ev->address);
		}
		for (size_t i = 0; i < u->n_exposes; i++) {
			if (u->exposes[i].forward_id == ev->forward_id && ev->port > 0)
				u->exposes[i].remote_port = ev->port;
		}
		break;
	case DEVKIT_EVENT_REGISTRATION_STATE:
		if (!(e = up_find_expose(u, ev->object_id)))
			break;
		if (ev->address[0]) {
			snprintf(e->advertised, sizeof(e->advertised), "%s", ev->address);
			e->advertised_port = ev->port;
		}
		if (ev->state == DEVKIT_REGISTRATION_RETRYING || ev->state == DEVKIT_REGISTRATION_LOST)
			e->failures_in_a_row++;
		else if (ev->state == DEVKIT_REGISTRATION_REGISTERED)
			e->failures_in_a_row = 0;
		if (ev->error && ev->message[0])
			snprintf(e->last_error, sizeof(e->last_error), "%s", ev->message);
		else if (ev->state == DEVKIT_REGISTRATION_REGISTERED)
			e->last_error[0] = '\0';
		cli_printable(e->last_error);
		break;
	case DEVKIT_EVENT_REPLICA_STAGE:
		if ((r = up_find_replica(u, ev->object_id)) != NULL && ev->state == DEVKIT_REPLICA_FAILED) {
			snprintf(r->last_error, sizeof(r->last_error), "%s", ev->message);
			cli_printable(r->last_error);
		}
		break;
	case DEVKIT_EVENT_EVENTS_DROPPED:
		u->events_dropped = 1; /* the status reads states from the library anyway */
		break;
	default:
		break;
	}
}

static enum up_end handle_event(struct up_cli *u, const devkit_event *ev)
{
	struct up_expose *e;

	note(u, ev);
	if (!fold(u, ev) && up_report_event(u, ev) != 0)
		return UP_END_OUTPUT;
	if (ev->type == DEVKIT_EVENT_TUNNEL_STATE && ev->state == DEVKIT_TUNNEL_DOWN
		&& u->phase != UP_STOPPING) {
		const char *why = cli_without_state_prefix(ev->message, "down");

		up_report_failure(u, "tunnel to %s is down%s%s", u->tunnel_opts->bastion,
			why[0] ? ": " : "", why);
		return UP_END_DOWN;
	}
	/* Refused for good once everything runs: the rest of the environment is
	 * still of use, so say it and keep going (bring-up checks its own). */
	if (ev->type == DEVKIT_EVENT_REGISTRATION_STATE && ev->state == DEVKIT_REGISTRATION_FAILED
		&& u->phase == UP_READY && (e = up_find_expose(u, ev->object_id)) != NULL)
		cli_errorf("expose %s: %s refused the entry for good; the rest keeps running",
			e->ro->service, e->ro->registry);
	return UP_GO_ON;
}

/* Handle what is queued, at most DRAIN_MAX events. Sets *drained. */
static enum up_end drain_events(struct up_cli *u, int *drained)
{
	devkit_event ev;
	enum up_end end;
	int rc = 0;

	*drained = 0;
	if (!u->ctx)
		return UP_GO_ON;
	while (*drained < DRAIN_MAX && (rc = devkit_ctx_poll(u->ctx, &ev, 0)) == 1) {
		(*drained)++;
		if ((end = handle_event(u, &ev)) != UP_GO_ON)
			return end;
	}
	if (*drained == 0 && rc < 0) {
		up_report_error(u, "reading events", rc);
		return UP_END_ERROR;
	}
	return UP_GO_ON;
}

/* Where each fd went in the pollfd array (-1: not polled). */
struct slots {
	int signal, events, listen, worker, client[UP_MAX_CLIENTS];
};

static nfds_t fill(struct up_cli *u, struct pollfd *fds, struct slots *s, int event_fd)
{
	nfds_t n = 0;

#define ADD(slot_, fd_) do { \
		(slot_) = (int)n; \
		fds[n].fd = (fd_); \
		fds[n].events = POLLIN; \
		fds[n++].revents = 0; \
	} while (0)

	s->signal = s->events = s->listen = s->worker = -1;
	if (u->signal_fd >= 0)
		ADD(s->signal, u->signal_fd);
	if (event_fd >= 0)
		ADD(s->events, event_fd);
	if (u->listen_fd >= 0)
		ADD(s->listen, u->listen_fd);
	if (u->worker.running && !u->worker.seen_done)
		ADD(s->worker, u->worker.done_fds[0]);
	for (int i = 0; i < UP_MAX_CLIENTS; i++) {
		s->client[i] = -1;
		if (u->clients[i].fd >= 0)
			ADD(s->client[i], u->clients[i].fd);
	}
#undef ADD
	return n;
}

/* The nearest client deadline caps the wait, so a silent client is
 * answered on time. */
static int cap_timeout(struct up_cli *u, int timeout_ms)
{
	long long now = cli_now_ms();

	for (int i = 0; i < UP_MAX_CLIENTS; i++) {
		long long left;

		if (u->clients[i].fd < 0)
			continue;
		left = u->clients[i].deadline_ms - now;
		if (left < 0)
			left = 0;
		if (timeout_ms < 0 || left < timeout_ms)
			timeout_ms = (int)left;
	}
	return timeout_ms;
}

static enum up_end turn(struct up_cli *u, int timeout_ms, int signals)
{
	/* Some event fds stay readable with nothing queued; after a few such
	 * wake-ups the queue is polled on a short timer instead. */
	static int idle_wakeups;
	int event_fd = u->ctx && idle_wakeups < 8 ? devkit_ctx_event_fd(u->ctx) : -1;
	struct pollfd fds[4 + UP_MAX_CLIENTS];
	struct slots s;
	nfds_t n;
	int drained = 0;
	enum up_end end;

	if (signals && cli_signal_caught())
		return UP_END_SIGNAL;
	if (u->ctx && event_fd < 0 && (timeout_ms < 0 || timeout_ms > 50))
		timeout_ms = 50;
	n = fill(u, fds, &s, event_fd);
	if (poll(fds, n, cap_timeout(u, timeout_ms)) < 0 && errno != EINTR) {
		up_report_failure(u, "poll: %s", strerror(errno));
		return UP_END_ERROR;
	}
	if (signals && cli_signal_caught())
		return UP_END_SIGNAL;
	/* The worker first: a replica it created is adopted before its stage
	 * events are reported. */
	if (u->worker.running)
		up_worker_notified(u);
	if ((end = drain_events(u, &drained)) != UP_GO_ON)
		return end;
	if (s.events >= 0 && (fds[s.events].revents & POLLIN) && drained == 0)
		idle_wakeups++;
	else if (drained)
		idle_wakeups = 0;
	if (s.listen >= 0 && (fds[s.listen].revents & POLLIN))
		up_socket_accept(u);
	for (int i = 0; i < UP_MAX_CLIENTS; i++) {
		if (s.client[i] >= 0)
			up_socket_client(u, i, fds[s.client[i]].revents);
	}
	up_socket_expire(u);
	return UP_GO_ON;
}

enum up_end up_pump(struct up_cli *u, int timeout_ms)
{
	return turn(u, timeout_ms, 1);
}

void up_drain(struct up_cli *u)
{
	/* Teardown goes on whatever happens: a signal was already taken, and a
	 * lost stdout only means there is no one to tell. */
	(void)turn(u, 0, 0);
}
