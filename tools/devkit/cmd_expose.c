/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit expose — make a local service callable from the cloud: a reverse
 * forward on the bastion plus an entry in the cloud's registry under the
 * bastion's address and that port (devkit_tunnel_expose), kept alive until
 * SIGINT/SIGTERM/SIGHUP, then deregistered and removed (devkit_expose_close).
 *
 * Life cycle: parse everything first (usage errors exit 2 before any network
 * traffic), open the tunnel and expose (a failure exits 1 with the library's
 * message), then wait on the library's event fd and a signal self-pipe in one
 * poll(). A registry that does not answer is not a reason to exit: the library
 * retries with backoff, and each retry is reported with its reason, so the
 * developer can start the registry (or fix the network) without restarting
 * devkit. "ready" comes once the entry is registered; a registration refused
 * for good (bad credentials, wrong URL) exits 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cli_report.h"
#include "cli_signal.h"
#include "cmd_expose.h"
#include "commands.h"

static int start_engine(struct expose_cli *t)
{
	int rc = cli_connect_new_ctx(&t->conn, &t->ctx);

	if (rc != 0)
		expose_report_error(t, "starting the engine", rc);
	return rc;
}

static int open_tunnel(struct expose_cli *t)
{
	int rc = cli_connect_open(&t->conn, t->ctx, &t->tunnel);

	if (rc != 0) {
		/* The library's message names the bastion and says why. */
		expose_report_error(t, NULL, rc);
		return rc;
	}
	t->tunnel_id = devkit_tunnel_id(t->tunnel);
	return 0;
}

/* Remember where things are, for the reports: the forward's real port (the
 * bastion picks one for --remote-port 0) and what the entry advertises. */
static void note_exposed(struct expose_cli *t)
{
	devkit_forward *f = devkit_expose_forward(t->expose);
	const char *addr = devkit_forward_address(f);

	t->reg = devkit_expose_registration(t->expose);
	t->reg_id = devkit_registration_id(t->reg);
	t->forward_id = devkit_forward_id(f);
	t->remote_bound_port = devkit_forward_port(f);
	snprintf(t->remote_address, sizeof(t->remote_address), "%s", addr && *addr ? addr
		: t->remote_bind[0] ? t->remote_bind : "0.0.0.0");
	expose_read_description(t);
}

static int expose(struct expose_cli *t)
{
	devkit_expose_options eo;
	devkit_registration_options ro;
	int rc;

	if ((rc = devkit_expose_options_init(&eo, DEVKIT_EXPOSE_OPTIONS_VERSION)) != 0
		|| (rc = devkit_registration_options_init(&ro, DEVKIT_REGISTRATION_OPTIONS_VERSION)) != 0) {
		expose_report_error(t, "expose options", rc);
		return rc;
	}
	expose_fill_options(t, &eo, &ro);
	rc = devkit_tunnel_expose(&t->expose, t->tunnel, &eo, &ro);
	if (rc != 0) {
		/* "expose 127.0.0.1:8080 as orders: <why>", from the library. */
		t->expose = NULL;
		expose_report_error(t, NULL, rc);
		return rc;
	}
	note_exposed(t);
	return 0;
}

enum { EV_OK = 0, EV_OUTPUT = -1, EV_DOWN = 1, EV_FAILED = 2 };

/*
 * The first FORWARD_READY of each forward happened while expose set it up;
 * the start lines already said where it listens. A later one (after a
 * reconnect) is news. 1: fold this one.
 */
static int fold_forward_ready(struct expose_cli *t, const devkit_event *ev)
{
	for (size_t i = 0; i < t->n_folded; i++) {
		if (t->folded[i] == ev->forward_id)
			return 0;
	}
	if (t->n_folded == EXPOSE_MAX_FORWARDS)
		return 0;
	t->folded[t->n_folded++] = ev->forward_id;
	return 1;
}

/* The bastion may pick another port for --remote-port 0 after a reconnect;
 * the registry entry still names the old one, so say so. */
static void check_remote_port(struct expose_cli *t, const devkit_event *ev)
{
	if (ev->forward_id != t->forward_id || ev->port <= 0 || ev->port == t->remote_bound_port)
		return;
	if (t->advertised_port && ev->port != t->advertised_port)
		cli_errorf("warning: the bastion now listens on port %d, but the registry entry of %s "
			"still says %d; use --remote-port to keep one port across reconnects", ev->port,
			t->service, t->advertised_port);
	t->remote_bound_port = ev->port;
}

/* FAILED: the registry refused for good. The wait call returns that refusal,
 * with the library's message, which is what the user needs to fix it. */
static void report_failed(struct expose_cli *t)
{
	int rc = devkit_registration_wait(t->reg, 0);
	char context[CLI_HOST_MAX * 2];

	snprintf(context, sizeof(context), "registering %s in %s", t->service, t->registry);
	expose_report_error(t, context, rc ? rc : DEVKIT_ERROR);
}

static int on_registration(struct expose_cli *t, const devkit_event *ev)
{
	if (ev->object_id == t->reg_id && ev->address[0]) {
		snprintf(t->advertised, sizeof(t->advertised), "%s", ev->address);
		t->advertised_port = ev->port;
	}
	if (ev->state == DEVKIT_REGISTRATION_RETRYING || ev->state == DEVKIT_REGISTRATION_LOST)
		t->failures_in_a_row++;
	else if (ev->state == DEVKIT_REGISTRATION_REGISTERED)
		t->failures_in_a_row = 0;
	switch (ev->state) {
	case DEVKIT_REGISTRATION_REGISTERING:
		if (!t->ready)
			return EV_OK; /* the "registering" start line said it */
		break;
	case DEVKIT_REGISTRATION_REGISTERED:
		/* The event says it; the wait call confirms the state is current. */
		if (!t->ready && devkit_registration_wait(t->reg, 0) == 0) {
			t->ready = 1;
			return expose_report_ready(t) == 0 ? EV_OK : EV_OUTPUT;
		}
		break;
	case DEVKIT_REGISTRATION_FAILED:
		if (expose_report_event(t, ev) != 0)
			return EV_OUTPUT;
		report_failed(t);
		return EV_FAILED;
	default:
		break;
	}
	return expose_report_event(t, ev) == 0 ? EV_OK : EV_OUTPUT;
}

/* One event: EV_OK, EV_OUTPUT (stdout gone), EV_DOWN (tunnel down for good),
 * EV_FAILED (registration refused for good). */
static int handle_event(struct expose_cli *t, const devkit_event *ev)
{
	switch (ev->type) {
	case DEVKIT_EVENT_REGISTRATION_STATE:
		return on_registration(t, ev);
	case DEVKIT_EVENT_FORWARD_READY:
		check_remote_port(t, ev);
		if (fold_forward_ready(t, ev))
			return EV_OK;
		break;
	case DEVKIT_EVENT_EVENTS_DROPPED:
		t->events_dropped = 1;
		break;
	default:
		break;
	}
	if (expose_report_event(t, ev) != 0)
		return EV_OUTPUT;
	if (ev->type == DEVKIT_EVENT_TUNNEL_STATE && ev->state == DEVKIT_TUNNEL_DOWN) {
		const char *why = cli_without_state_prefix(ev->message, "down");

		cli_errorf("tunnel to %s is down%s%s", t->conn.bastion, why[0] ? ": " : "", why);
		return EV_DOWN;
	}
	return EV_OK;
}

/*
 * When the queue overflowed, the REGISTERED or FAILED event may be among the
 * lost ones: ask for the state instead of waiting for an event that will not
 * come. Only then, because the state is published a moment before its event
 * is queued, and "ready" must not come ahead of the events before it.
 */
static int check_state(struct expose_cli *t)
{
	int state;

	if (!t->events_dropped || t->ready)
		return EV_OK;
	state = devkit_registration_get_state(t->reg);
	if (state == DEVKIT_REGISTRATION_REGISTERED && devkit_registration_wait(t->reg, 0) == 0) {
		t->ready = 1;
		return expose_report_ready(t) == 0 ? EV_OK : EV_OUTPUT;
	}
	if (state == DEVKIT_REGISTRATION_FAILED) {
		report_failed(t);
		return EV_FAILED;
	}
	return EV_OK;
}

/* Events queued while the tunnel opened and expose started: "connecting" and
 * "up" merely announce what the start lines say; the rest are kept, in order,
 * to be handled after them. */
#define EARLY_MAX 32

static size_t collect_early_events(struct expose_cli *t, devkit_event *early)
{
	size_t n = 0;
	devkit_event ev;

	while (n < EARLY_MAX && devkit_ctx_poll(t->ctx, &ev, 0) == 1) {
		if (ev.type == DEVKIT_EVENT_TUNNEL_STATE
			&& (ev.state == DEVKIT_TUNNEL_CONNECTING || ev.state == DEVKIT_TUNNEL_UP))
			continue;
		early[n++] = ev;
	}
	return n;
}

enum loop_end { LOOP_SIGNAL, LOOP_DOWN, LOOP_FAILED, LOOP_OUTPUT, LOOP_ERROR };

static enum loop_end loop_end_of(int ev_rc)
{
	return ev_rc == EV_OUTPUT ? LOOP_OUTPUT : ev_rc == EV_DOWN ? LOOP_DOWN : LOOP_FAILED;
}

/* Handle what is queued, at most 256 events so a flood cannot delay a Ctrl-C.
 * Returns how many were handled, or -1 with *end set. */
static int drain(struct expose_cli *t, enum loop_end *end)
{
	devkit_event ev;
	int drained = 0, rc = 0;

	while (drained < 256 && (rc = devkit_ctx_poll(t->ctx, &ev, 0)) == 1) {
		drained++;
		if ((rc = handle_event(t, &ev)) != EV_OK) {
			*end = loop_end_of(rc);
			return -1;
		}
	}
	if (drained == 0 && rc < 0) {
		expose_report_error(t, "reading events", rc);
		*end = LOOP_ERROR;
		return -1;
	}
	if ((rc = check_state(t)) != EV_OK) {
		*end = loop_end_of(rc);
		return -1;
	}
	return drained;
}

static enum loop_end run_loop(struct expose_cli *t, int signal_fd)
{
	int event_fd = devkit_ctx_event_fd(t->ctx);
	int idle_wakeups = 0;
	enum loop_end end = LOOP_ERROR;

	for (;;) {
		struct pollfd fds[2];
		nfds_t nfds = 1;
		int n, drained;

		if (cli_signal_caught())
			return LOOP_SIGNAL;
		fds[0].fd = signal_fd;
		fds[0].events = POLLIN;
		if (event_fd >= 0) {
			fds[1].fd = event_fd;
			fds[1].events = POLLIN;
			nfds = 2;
		}
		/* Without an event fd, poll the queue often enough that events
		 * still show up promptly; signals wake us either way. */
		n = poll(fds, nfds, event_fd >= 0 ? -1 : 50);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			cli_errorf("poll: %s", strerror(errno));
			return LOOP_ERROR;
		}
		if (cli_signal_caught())
			return LOOP_SIGNAL;
		if ((drained = drain(t, &end)) < 0)
			return end;
		/* An event fd that stays readable with nothing queued would spin this
		 * loop; after a few such wake-ups, poll the queue on a timer instead. */
		if (nfds == 2 && (fds[1].revents & POLLIN) && drained == 0) {
			if (++idle_wakeups >= 8) {
				if (t->conn.verbosity >= 2)
					cli_errorf("debug: event fd readable with no events; polling instead");
				event_fd = -1;
			}
		} else if (drained) {
			idle_wakeups = 0;
		}
	}
}

static void report_queued(struct expose_cli *t, int report)
{
	devkit_event ev;

	while (devkit_ctx_poll(t->ctx, &ev, 0) == 1) {
		if (report && expose_report_event(t, &ev) != 0)
			report = 0;
	}
}

/*
 * Deregister and remove the forward (devkit_expose_close), then close the
 * tunnel and the engine, reporting what the close produced (the
 * registration's "deregistered", the tunnel's "closed") when `report`.
 * Returns 0, or the deregistration's error: the entry then stays in the
 * registry until its TTL runs out, which the user should know.
 */
static int shut_down(struct expose_cli *t, int report)
{
	int rc = 0;

	if (t->expose) {
		rc = devkit_expose_close(t->expose);
		t->expose = NULL;
		t->reg = NULL;
		if (rc != 0) {
			char context[CLI_HOST_MAX * 2];

			snprintf(context, sizeof(context), "deregistering %s from %s (the entry expires "
				"after its TTL)", t->service, t->registry);
			if (report)
				expose_report_error(t, context, rc);
			else
				cli_report_error(NULL, 0, NULL, context, rc);
		}
	}
	if (t->ctx)
		report_queued(t, report);
	devkit_tunnel_free(t->tunnel);
	t->tunnel = NULL;
	if (t->ctx) {
		report_queued(t, report);
		devkit_ctx_free(t->ctx);
		t->ctx = NULL;
	}
	return rc;
}

/* Handle the early events after the start lines; same results as drain(). */
static int handle_early(struct expose_cli *t, const devkit_event *early, size_t n,
	enum loop_end *end)
{
	for (size_t i = 0; i < n; i++) {
		int rc = handle_event(t, &early[i]);

		if (rc != EV_OK) {
			*end = loop_end_of(rc);
			return -1;
		}
	}
	return 0;
}

int cmd_expose(int argc, char **argv)
{
	struct expose_cli t;
	devkit_event early[EARLY_MAX];
	size_t n_early;
	int rc, status = CLI_EXIT_FAILURE, signal_fd;
	enum loop_end end = LOOP_ERROR;

	memset(&t, 0, sizeof(t));
	rc = expose_parse_args(&t, argc, argv);
	if (rc != 0) {
		free(t.metadata);
		return rc < 0 ? CLI_EXIT_OK : rc; /* -1: --help was printed */
	}

	cli_signals_ignore_sigpipe();
	/*
	 * Until expose returns, SIGINT keeps its default action: opening can block
	 * for the whole connect timeout and cannot be cancelled, so Ctrl-C should
	 * end the process at once. What could persist (an entry whose first
	 * register call was in flight) expires after its TTL.
	 */
	if (start_engine(&t) != 0 || open_tunnel(&t) != 0 || expose(&t) != 0)
		goto out;

	/* From here on the entry may be in the registry: a signal must remove it. */
	signal_fd = cli_signals_install();
	if (signal_fd < 0) {
		cli_errorf("installing signal handlers: %s", strerror(errno));
		goto out;
	}
	n_early = collect_early_events(&t, early);
	if (expose_report_started(&t) != 0)
		goto stdout_gone;
	if (handle_early(&t, early, n_early, &end) == 0)
		end = run_loop(&t, signal_fd);

	switch (end) {
	case LOOP_SIGNAL:
		(void)expose_report_closing(&t, cli_signal_caught());
		status = shut_down(&t, 1) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		goto done;
	case LOOP_OUTPUT:
		goto stdout_gone;
	case LOOP_DOWN:
	case LOOP_FAILED:
	case LOOP_ERROR:
	default:
		goto out;
	}

stdout_gone:
	/* Whoever read our output has gone; there is no one left to serve. */
	cli_errorf("cannot write to stdout; deregistering and closing the tunnel");
out:
	shut_down(&t, 0);
done:
	cli_json_free(&t.out);
	free(t.metadata);
	return status;
}
