# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes API client (devkit_k8s) and Pod replicas (devkit_replica).

A ``Kubernetes`` client belongs to its Context: C frees it before the
context, so the context's close closes it first (and the context holds it,
as it holds tunnels). A ``Replica`` belongs to its client the same way:
closing the client (or the context) frees the replica handles first.

Closing a Replica only frees the handle: the copy stays in the cluster until
``delete()`` (or ``Kubernetes.delete_replica``, or ``gc()`` once it has
expired), unless it was made with ``delete_on_close=True``. The garbage
collector never deletes a copy, it only frees the handle.
"""
from __future__ import annotations

import json
import os
import re
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Union

from . import capi
from ._context import Context
from ._enums import ReplicaSource, ReplicaStage, to_enum
from ._errors import ClosedError, Error, InvalidArgumentError, TimeoutError
from ._lifetime import Handle, Lifetime
from ._tunnel import _fill

if TYPE_CHECKING:  # pragma: no cover
    from ._capture import Capture
    from ._diag import EventWatch, Logs, Report
    from ._exec import Command, Exec, ExecResult, PodForward
    from ._live import App, AppAction, ArthasResult, Debug, DeployResult, Shell
    from ._tunnel import Tunnel

PathLike = Union[str, "os.PathLike[str]"]

# wait_ready() never blocks inside C for longer than this, so a close() from
# another thread waits at most about this long (C must not free a replica that
# is being waited on). Each slice ends with one more read of the Pod and of its
# events, so it is not shorter: C itself polls the Pod every 300 ms.
_WAIT_SLICE_MS = 1000

#: How long ``Replica.delete``, ``close()`` with ``delete_on_close`` and
#: ``Kubernetes.delete_replica`` wait for the Pod to be gone by default.
DELETE_TIMEOUT_MS = 60_000

_SOURCES = (("pod", ReplicaSource.POD), ("deployment", ReplicaSource.DEPLOYMENT),
            ("statefulset", ReplicaSource.STATEFULSET), ("daemonset", ReplicaSource.DAEMONSET))


def _kubeconfig_text(kubeconfig: Union[PathLike, Sequence[PathLike], None]) -> Optional[str]:
    """One path, a ':'-separated list (as $KUBECONFIG) or a sequence of paths,
    each with "~" expanded, as C wants it: ':'-separated."""
    if kubeconfig is None:
        return None
    if isinstance(kubeconfig, (str, bytes)) or hasattr(kubeconfig, "__fspath__"):
        parts = os.fspath(kubeconfig)
        if isinstance(parts, bytes):
            parts = parts.decode()
        items: List[str] = parts.split(":")
    else:
        items = [os.fspath(p) for p in kubeconfig]  # type: ignore[misc]
    return ":".join(os.path.expanduser(p) for p in items)


def _k8s_options(values: Dict[str, Any]) -> Any:
    values = dict(values)
    values["kubeconfig"] = _kubeconfig_text(values.get("kubeconfig"))
    values["namespace_name"] = values.pop("namespace", None)
    return _fill(capi.devkit_k8s_options(), values)


def _replica_options(values: Dict[str, Any]) -> Any:
    """The C struct for replicate()/build_replica()'s keyword arguments."""
    values = dict(values)
    given = [(key, kind, values.pop(key)) for key, kind in _SOURCES]
    given = [(key, kind, name) for key, kind, name in given if name is not None]
    if len(given) != 1:
        what = "none" if not given else ", ".join(f"{key}=" for key, _, _ in given)
        raise InvalidArgumentError(
            "a replica copies exactly one source: give one of pod=, deployment=, "
            f"statefulset=, daemonset= (got {what})", InvalidArgumentError.code)
    _, kind, source_name = given[0]
    values["source_kind"] = int(kind)
    values["source_name"] = source_name
    values["namespace_name"] = values.pop("namespace", None)
    values["node_name"] = values.pop("node", None)
    values["traffic_tag"] = values.pop("tag", None)
    return _fill(capi.devkit_replica_options(), values)


def _body_text(body: Any) -> Optional[str]:
    if body is None or isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8")
    return json.dumps(body)


class Kubernetes(Handle):
    """A Kubernetes API client for one cluster, configured as kubectl is.

    ``Kubernetes(ctx, kubeconfig=None, context=None, namespace=None,
    timeout_ms=None, retries=None, connect_to=None)`` reads the kubeconfig
    (`kubeconfig`: a path, a ':'-separated list or a list of paths; None:
    $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)
    and makes no request yet. A kubeconfig that is missing or wrong raises
    ``NotFoundError`` / ``InvalidArgumentError`` naming the file and the field.
    Without `ctx` (None) the client makes its own Context and closes it with
    itself.

    The API server's answers become the usual exceptions with the server's
    message: 401 ``AuthError``, 403 ``ForbiddenError``, 404 ``NotFoundError``,
    409 ``ExistsError``, 400/422 ``InvalidArgumentError``, 5xx/429 ``IoError``
    (after `retries` retries), a body that is not JSON ``ProtocolError``.
    """

    def __init__(self, ctx: Optional[Context] = None, *,
                 kubeconfig: Union[PathLike, Sequence[PathLike], None] = None,
                 context: Optional[str] = None,
                 namespace: Optional[str] = None,
                 timeout_ms: Optional[int] = None,
                 retries: Optional[int] = None,
                 connect_to: Optional[str] = None) -> None:
        opts = _k8s_options(dict(kubeconfig=kubeconfig, context=context, namespace=namespace,
                                 timeout_ms=timeout_ms, retries=retries,
                                 connect_to=connect_to))
        owned = ctx is None
        self._ctx = Context() if ctx is None else ctx  # keeps the context alive
        try:
            with self._ctx._life.use() as ctx_ptr:
                ptr = capi.devkit_k8s_open(ctx_ptr, opts)
                # Borrowed strings, constant for the client's life: copied now.
                self._namespace = capi.devkit_k8s_namespace(ptr) or ""
                self._server = capi.devkit_k8s_server(ptr) or ""
                self._context_name = capi.devkit_k8s_context_name(ptr) or ""
                # Registered while the context is held, so its close() frees us first.
                self._life = Lifetime("Kubernetes client", ptr, capi.devkit_k8s_free,
                                      parent=self._ctx._life)
        except BaseException:
            if owned:
                self._ctx.close()
            raise
        self._owned_ctx = self._ctx if owned else None
        # As in C, a replica handle lives until it or its client is closed.
        self._replicas: set = set()
        # Log, event-watch and capture handles (devkit/diag.h), exec sessions and
        # forwards (exec.h), debug and shell sessions (live.h) live until they or
        # the client close.
        self._streams: set = set()
        self._ctx._k8s_clients.add(self)
        self._finalizer = weakref.finalize(self, self._life.close)

    # -- lifetime ------------------------------------------------------------
    def close(self) -> None:
        """Free the replica handles of this client (closing each: see
        ``Replica.close``) and close its logs, watches, captures, exec
        sessions, forwards, debug and shell sessions, then the client (and the context, if the client made
        its own). Idempotent."""
        for replica in list(self._replicas):
            replica.close()
        for stream in list(self._streams):
            stream.close()
        self._finalizer.detach()
        self._life.close()
        self._replicas.clear()
        self._streams.clear()
        self._ctx._k8s_clients.discard(self)
        if self._owned_ctx is not None:
            self._owned_ctx.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return (f"<devkit.Kubernetes {self._server} context={self._context_name!r} "
                f"namespace={self._namespace}{state}>")

    # -- what it talks to ----------------------------------------------------
    @property
    def context(self) -> Context:
        """The devkit Context (the kubeconfig context's name is ``context_name``)."""
        return self._ctx

    @property
    def namespace(self) -> str:
        """The namespace requests and replicas use by default."""
        return self._namespace

    @property
    def server(self) -> str:
        """The API server's URL."""
        return self._server

    @property
    def context_name(self) -> str:
        """The kubeconfig context in use ("" in-cluster)."""
        return self._context_name

    def request(self, method: str, path: str, body: Any = None, *, raw: bool = False) -> Any:
        """One REST call: `method` ("GET", "POST", "PUT", "PATCH", "DELETE"), `path`
        ("/api/v1/namespaces/dev/pods/web-1", with any query), `body` a dict or
        list (sent as JSON), a JSON string, or None. PATCH bodies are JSON merge
        patches. Returns the answer parsed as JSON (a dict, mostly), or its text
        with `raw` or when it is not JSON (pods/log); None for an empty answer."""
        text = _body_text(body)
        with self._life.use() as ptr:
            answer = capi.devkit_k8s_request(ptr, method.upper(), path, text)
        if raw:
            return answer
        if not answer.strip():
            return None
        if answer.lstrip()[:1] in ("{", "["):
            try:
                return json.loads(answer)
            except ValueError:
                pass
        return answer

    # -- diagnostics (devkit/diag.h, docs/diagnostics.md) ----------------------
    def events(self, pod: str, namespace: Optional[str] = None) -> Dict[str, Any]:
        """The events of Pod `pod` (namespace None: the client's) and of its
        owners: {"namespace", "pod", "objects": [{"kind", "name", "uid"}],
        "events": [{"time", "type", "reason", "message", "count", "stage",
        "object": {"kind", "name"}, "container", "source"}] (oldest first),
        "stages": [{"stage": "scheduling", "events": [...]}, ...] (the same
        events grouped by stage, in the order of a Pod's life)}.
        ``NotFoundError`` for a Pod that does not exist."""
        with self._life.use() as ptr:
            text = capi.devkit_diag_events(ptr, namespace, pod)
        return json.loads(text)

    def watch_events(self, pod: str, namespace: Optional[str] = None) -> "EventWatch":
        """The events of Pod `pod` and its owners as they are recorded (those
        that exist first): an iterator of event dicts (``events()`` shape plus
        "action": "ADDED" / "MODIFIED"), ended by ``close()`` from any thread.
        Returns once the Pod was read (``NotFoundError`` if it does not exist)."""
        from ._diag import EventWatch
        with self._life.use() as ptr:
            wptr = capi.devkit_diag_events_watch(ptr, namespace, pod)
            return EventWatch(self, wptr, pod, namespace or self._namespace)

    def logs(self, pod: str, container: Optional[str] = None, *, follow: bool = False,
             since_seconds: Optional[int] = None, since_time: Optional[str] = None,
             tail_lines: Optional[int] = None, previous: bool = False,
             timestamps: bool = False, namespace: Optional[str] = None,
             file: Optional[PathLike] = None,
             max_reconnects: Optional[int] = None) -> "Logs":
        """A container's log as ``kubectl logs`` reads it: an iterator of lines
        (``Logs``; a context manager). `container` None: the Pod's default
        container; `follow`: keep reading as the container writes (resumed
        across reconnects without losing or repeating a line; the log ends when
        the container stops); `since_seconds` / `since_time` (RFC 3339, not
        both); `tail_lines` (the last N); `previous` (the crashed instance);
        `timestamps` (keep the kubelet's RFC 3339 stamp in front of each line);
        `file`: append the lines to that file instead (the iteration then only
        waits for the end); `max_reconnects` (reconnects in a row bringing no
        line before giving up; default 10). Reads release the GIL and run in
        100 ms slices, so ``close()`` from another thread ends an iteration.
        ``NotFoundError`` for a Pod that does not exist; errors of the log
        request itself raise from the iteration."""
        from ._diag import Logs, _logs_options
        opts = _logs_options(dict(
            namespace=namespace, pod=pod, container=container, follow=follow,
            since_seconds=since_seconds, since_time=since_time, tail_lines=tail_lines,
            previous=previous, timestamps=timestamps,
            file=None if file is None else os.path.expanduser(os.fspath(file)),
            max_reconnects=max_reconnects))
        with self._life.use() as ptr:
            lptr = capi.devkit_logs_start(ptr, opts)
            return Logs(self, lptr, pod, namespace or self._namespace, container)

    def diagnose(self, pod: str, namespace: Optional[str] = None) -> "Report":
        """Why Pod `pod` is where it is: a ``Report`` with ``.json`` (a dict:
        stage, summary, findings with id, explanation, fix, evidence, the
        crashed instance's last log lines, ...) and ``.text`` (the same in
        plain words). A Pod that runs fine has no findings; ``NotFoundError``
        for a Pod that does not exist."""
        from ._diag import Report
        with self._life.use() as ptr:
            json_text, text = capi.devkit_diag_report(ptr, namespace, pod)
        return Report(json=json.loads(json_text), text=text)

    def capture(self, pod: str, filter: Optional[str] = None, *, pcap: bool = False,
                file: Optional[PathLike] = None, duration_ms: Optional[int] = None,
                max_packets: Optional[int] = None, snaplen: Optional[int] = None,
                interface: Optional[str] = None, container: Optional[str] = None,
                namespace: Optional[str] = None) -> "Capture":
        """tcpdump in Pod `pod`'s network (``Capture``: iterate for text lines,
        or the pcap stream's bytes with `pcap`; a context manager). `filter`: a
        BPF filter ("tcp port 8080"); `interface` (default "any"); `file`: write
        there instead (created, truncated; the iteration then only waits for the
        end); `duration_ms` / `max_packets`: stop after that long / that many
        packets (else ``stop()``); `snaplen`: bytes kept per packet; `container`
        (default: the replica's devkit-tcpdump sidecar when the Pod has one,
        else the Pod's default container). Returns once tcpdump listens. Errors
        carry tcpdump's words: no tcpdump (``UnsupportedError``), not permitted
        (``ForbiddenError``: it needs NET_RAW), a bad filter
        (``InvalidArgumentError``)."""
        from ._capture import capture
        return capture(self, pod, filter, pcap=pcap, file=file, duration_ms=duration_ms,
                       max_packets=max_packets, snaplen=snaplen, interface=interface,
                       container=container, namespace=namespace)

    # -- streaming (devkit/exec.h) -------------------------------------------------------
    def exec(self, pod: str, command: "Command", *, container: Optional[str] = None,
             namespace: Optional[str] = None, stdin: bool = False, tty: bool = False,
             timeout_ms: Optional[int] = None) -> "Exec":
        """Run `command` in a container of Pod `pod` (a str runs as
        ``sh -c COMMAND``, a list as the argv itself) and return the session
        (``Exec``: ``read()`` / iterate, ``write()`` and ``close_stdin()`` with
        `stdin`, ``wait()``, ``resize()`` with `tty`; a context manager) once the
        server accepted it. `tty`: a terminal, stdout and stderr together.
        `timeout_ms`: connect and handshake (default: the client's). A missing
        Pod is ``NotFoundError`` with the server's words; 403
        ``ForbiddenError``."""
        from ._exec import start_exec
        return start_exec(self, pod, command, container=container, namespace=namespace,
                          stdin=stdin, tty=tty, attach=False, timeout_ms=timeout_ms)

    def attach(self, pod: str, *, container: Optional[str] = None,
               namespace: Optional[str] = None, stdin: bool = False, tty: bool = False,
               timeout_ms: Optional[int] = None) -> "Exec":
        """Attach to the container's running main process (kubectl attach):
        an ``Exec`` session on its output, and its stdin with `stdin` (the
        container needs ``stdin: true`` in the Pod spec)."""
        from ._exec import start_exec
        return start_exec(self, pod, None, container=container, namespace=namespace,
                          stdin=stdin, tty=tty, attach=True, timeout_ms=timeout_ms)

    def exec_run(self, pod: str, command: "Command", *,
                 stdin: Union[bytes, bytearray, memoryview, str, None] = None,
                 container: Optional[str] = None, namespace: Optional[str] = None,
                 tty: bool = False, timeout_ms: Optional[int] = None) -> "ExecResult":
        """Run `command` to its end: send `stdin` (bytes, or str as UTF-8; None:
        no stdin) and close it, collect the output, and return
        ``ExecResult(exit_code, stdout, stderr)`` (unpacks as ``code, out,
        err``; bytes). A non-zero exit code is a result, not an error; a command
        the server cannot start raises with its message. Output is held in
        memory."""
        from ._exec import run
        return run(self, pod, command, stdin=stdin, container=container, namespace=namespace,
                   tty=tty, timeout_ms=timeout_ms)

    def port_forward(self, pod: str, pod_port: int, local_port: int = 0, *,
                     bind_address: Optional[str] = None, namespace: Optional[str] = None,
                     tunnel: Optional["Tunnel"] = None) -> "PodForward":
        """Listen on `bind_address` (default 127.0.0.1) : `local_port` (0: any
        free one, see ``.port``) and forward each connection to `pod_port` of
        Pod `pod`: over the API server's port-forward, or with `tunnel` through
        that bastion tunnel to the Pod's IP (no API server load; the IP is read
        once). Returns ``PodForward`` (``.port``, ``close()``, a context
        manager) once listening. A connection the Pod refuses is closed."""
        from ._exec import port_forward
        return port_forward(self, pod, pod_port, local_port, bind_address=bind_address,
                            namespace=namespace, tunnel=tunnel)

    # -- the live workflow on a replica (devkit/live.h, docs/live.md) -------------------
    def app(self, pod: str, container: Optional[str] = None,
            namespace: Optional[str] = None) -> "App":
        """The app the replica's keep-alive runs in that container: ``App``
        with ``status()``, ``start()``, ``stop()``, ``restart()`` (each returns
        devkit-app's answer) and ``running``."""
        from ._live import App
        return App(self, pod, container, namespace)

    def app_control(self, pod: str, action: Union["AppAction", int, str], *,
                    container: Optional[str] = None, namespace: Optional[str] = None) -> str:
        """Run devkit-app `action` ("status", "start", "stop", "restart" or an
        ``AppAction``) in the container and return its answer ("running pid 42
        since 2026-11-25T10:00:00Z", "stopped since ... (exit status 143)").
        ``UnsupportedError`` when the container has no keep-alive (replicate
        with ``keep_alive=True``)."""
        from ._live import app_control
        return app_control(self, pod, action, container=container, namespace=namespace)

    def deploy(self, pod: str, local_path: Optional[PathLike] = None,
               remote_dir: Optional[str] = None, *, restart: bool = True, full: bool = False,
               container: Optional[str] = None, namespace: Optional[str] = None,
               timeout_ms: Optional[int] = None,
               progress: Optional[Callable[[str, int, int], Any]] = None) -> "DeployResult":
        """Copy `local_path` (a file: lands as remote_dir/NAME; a directory: its
        contents land under `remote_dir`, created if missing) into the
        container (tar over exec; later deploys send only files whose size or
        modification time changed, unless `full`) and, with `restart`, restart
        the app under the keep-alive (the Pod keeps running). `local_path`
        None: restart only. `timeout_ms`: per step (default 120 s). Returns
        ``DeployResult``. Errors name the step and carry the container's words:
        no tar (``UnsupportedError``), an unwritable `remote_dir` (``IoError``),
        no keep-alive (``UnsupportedError``). `progress(stage, done, total)` is
        called on this thread as it goes: stage "scan", "compare", "send"
        (done/total in bytes) or "restart" (in files); an exception it raises
        is raised once the deploy has returned."""
        from ._live import deploy
        return deploy(self, pod, local_path, remote_dir, restart=restart, full=full,
                      container=container, namespace=namespace, timeout_ms=timeout_ms,
                      progress=progress)

    def debug(self, pod: str, port: Optional[int] = None, *, suspend: bool = False,
              local_port: Optional[int] = None, bind_address: Optional[str] = None,
              tunnel: Optional["Tunnel"] = None, agent_option: Optional[str] = None,
              container: Optional[str] = None, namespace: Optional[str] = None,
              timeout_ms: Optional[int] = None) -> "Debug":
        """Turn the JDWP agent on for the app (on `port` in the container,
        default 5005; `suspend`: the JVM waits for the debugger), restart it,
        forward it to `bind_address`:`local_port` (default 127.0.0.1 and the
        same port; -1: any free one), through the API server or with `tunnel`
        through the bastion, and return ``Debug`` (``.port``) once the JVM
        answered the JDWP handshake (`timeout_ms`, default 60 s).
        `agent_option`: the JVM option instead of JDWP's default. The agent
        stays on across deploys until ``debug_off``."""
        from ._live import debug
        return debug(self, pod, port, suspend=suspend, local_port=local_port,
                     bind_address=bind_address, tunnel=tunnel, agent_option=agent_option,
                     container=container, namespace=namespace, timeout_ms=timeout_ms)

    def debug_off(self, pod: str, *, container: Optional[str] = None,
                  namespace: Optional[str] = None) -> None:
        """Turn the debug agent off and restart the app without it."""
        from ._live import debug_off
        debug_off(self, pod, container=container, namespace=namespace)

    def arthas(self, pod: str, package: PathLike, command: str, *, pid: Optional[int] = None,
               java: Optional[str] = None, container: Optional[str] = None,
               namespace: Optional[str] = None,
               timeout_ms: Optional[int] = None) -> "ArthasResult":
        """Run Arthas `command` ("thread -n 3"; several separated by ';') in
        the JVM of the container and return ``ArthasResult(exit_code,
        output)``. `package`: Arthas on this machine (arthas-bin.zip or the
        directory it unpacks to), copied in once. `pid`: the JVM (default: the
        keep-alive's app, else the only Java process); `java` in the container
        (default $JAVA_HOME/bin/java, else java on PATH); `timeout_ms` for the
        whole call (default 120 s)."""
        from ._live import arthas
        return arthas(self, pod, package, command, pid=pid, java=java, container=container,
                      namespace=namespace, timeout_ms=timeout_ms)

    def arthas_console(self, pod: str, package: PathLike, *, pid: Optional[int] = None,
                       java: Optional[str] = None, container: Optional[str] = None,
                       namespace: Optional[str] = None,
                       timeout_ms: Optional[int] = None) -> "Exec":
        """Arthas's interactive console: an ``Exec`` session on a terminal
        (write the user's keystrokes, read the screen)."""
        from ._live import arthas_console
        return arthas_console(self, pod, package, pid=pid, java=java, container=container,
                              namespace=namespace, timeout_ms=timeout_ms)

    def shell(self, pod: str, *, audit_log: Optional[PathLike] = None,
              audit_events: bool = False, user: Optional[str] = None,
              shell: Optional[str] = None, cols: Optional[int] = None,
              rows: Optional[int] = None, container: Optional[str] = None,
              namespace: Optional[str] = None) -> "Shell":
        """An interactive shell on a terminal whose every command line, time,
        user, Pod and exit status is recorded: one JSON line per command
        appended to `audit_log` on this machine (created 0600), and with
        `audit_events` a core/v1 Event on the Pod. `shell`: default bash when
        the container has it, else sh; `user` (default: the local user name);
        `cols` x `rows` (default 80x24). Fails if `audit_log` cannot be opened:
        nothing runs unaudited."""
        from ._live import shell as start_shell
        return start_shell(self, pod, shell=shell, audit_log=audit_log,
                           audit_events=audit_events, user=user, cols=cols, rows=rows,
                           container=container, namespace=namespace)

    # -- replicas ------------------------------------------------------------
    def replicate(self, *, pod: Optional[str] = None, deployment: Optional[str] = None,
                  statefulset: Optional[str] = None, daemonset: Optional[str] = None,
                  namespace: Optional[str] = None, name: Optional[str] = None,
                  owner: Optional[str] = None, container: Optional[str] = None,
                  keep_alive: Optional[bool] = None, command: Optional[str] = None,
                  node: Optional[str] = None, log_file: Optional[str] = None,
                  tag: Optional[str] = None, istio: Optional[bool] = None,
                  tag_header: Optional[str] = None, istio_host: Optional[str] = None,
                  tcpdump: Optional[bool] = None, tcpdump_image: Optional[str] = None,
                  tcpdump_filter: Optional[str] = None,
                  jvm_exception_log: Optional[bool] = None,
                  no_liveness: Optional[bool] = None, no_readiness: Optional[bool] = None,
                  no_startup: Optional[bool] = None, debug_port: Optional[int] = None,
                  ttl_s: Optional[int] = None, keep_labels: Optional[bool] = None,
                  delete_on_close: bool = False) -> "Replica":
        """Create a personal copy of a Pod (`pod=`) or of a workload's Pod
        template (`deployment=`, `statefulset=`, `daemonset=`): exactly one.
        Returns once the API server accepted it (stage CREATED); on failure
        nothing is left in the cluster. ``wait_ready()`` waits for the Pod.

        Options are those of ``devkit_replica_options`` (docs/replica.md):
        `namespace` (default: the client's), `name` (default
        "<source>-<owner>-<5 random>"), `owner` (default $USER), `container`
        (default: the first), `keep_alive`, `command` (a shell command line),
        `node` (spec.nodeName), `log_file`, `tag` (traffic tag; with `istio`, a
        VirtualService/DestinationRule subset matching `tag_header`, default
        "x-devkit-tag", for `istio_host`), `tcpdump` (+ `tcpdump_image`,
        `tcpdump_filter`), `jvm_exception_log`, `no_liveness`, `no_readiness`,
        `no_startup`, `debug_port` (JDWP), `ttl_s` (expiry for ``gc()``,
        default 8 h), `keep_labels`.

        `delete_on_close`: ``close()`` (and so ``with``) deletes the copy before
        it frees the handle. By default closing only frees the handle and the
        copy stays until ``delete()`` or it expires."""
        opts = _replica_options(dict(
            pod=pod, deployment=deployment, statefulset=statefulset, daemonset=daemonset,
            namespace=namespace, name=name, owner=owner, container=container,
            keep_alive=keep_alive, command=command, node=node, log_file=log_file, tag=tag,
            istio=istio, tag_header=tag_header, istio_host=istio_host, tcpdump=tcpdump,
            tcpdump_image=tcpdump_image, tcpdump_filter=tcpdump_filter,
            jvm_exception_log=jvm_exception_log, no_liveness=no_liveness,
            no_readiness=no_readiness, no_startup=no_startup, debug_port=debug_port,
            ttl_s=ttl_s, keep_labels=keep_labels))
        with self._life.use() as ptr:
            rptr = capi.devkit_replica_create(ptr, opts)
            return Replica(self, rptr, delete_on_close=delete_on_close)

    def build_replica(self, *, pod: Optional[str] = None, deployment: Optional[str] = None,
                      statefulset: Optional[str] = None, daemonset: Optional[str] = None,
                      namespace: Optional[str] = None, name: Optional[str] = None,
                      owner: Optional[str] = None, container: Optional[str] = None,
                      keep_alive: Optional[bool] = None, command: Optional[str] = None,
                      node: Optional[str] = None, log_file: Optional[str] = None,
                      tag: Optional[str] = None, istio: Optional[bool] = None,
                      tag_header: Optional[str] = None, istio_host: Optional[str] = None,
                      tcpdump: Optional[bool] = None, tcpdump_image: Optional[str] = None,
                      tcpdump_filter: Optional[str] = None,
                      jvm_exception_log: Optional[bool] = None,
                      no_liveness: Optional[bool] = None, no_readiness: Optional[bool] = None,
                      no_startup: Optional[bool] = None, debug_port: Optional[int] = None,
                      ttl_s: Optional[int] = None,
                      keep_labels: Optional[bool] = None) -> Dict[str, Any]:
        """What ``replicate(...)`` with the same options would create, without
        creating it (a dry run: reads the source, writes nothing): the Pod as a
        dict, or with `istio` a List of the Pod, VirtualService and
        DestinationRule."""
        opts = _replica_options(dict(
            pod=pod, deployment=deployment, statefulset=statefulset, daemonset=daemonset,
            namespace=namespace, name=name, owner=owner, container=container,
            keep_alive=keep_alive, command=command, node=node, log_file=log_file, tag=tag,
            istio=istio, tag_header=tag_header, istio_host=istio_host, tcpdump=tcpdump,
            tcpdump_image=tcpdump_image, tcpdump_filter=tcpdump_filter,
            jvm_exception_log=jvm_exception_log, no_liveness=no_liveness,
            no_readiness=no_readiness, no_startup=no_startup, debug_port=debug_port,
            ttl_s=ttl_s, keep_labels=keep_labels))
        with self._life.use() as ptr:
            text = capi.devkit_replica_build(ptr, opts)
        return json.loads(text)

    def replicas(self, namespace: Optional[str] = None) -> List[Dict[str, Any]]:
        """The replicas in `namespace` (None: the client's; "*": every
        namespace), as dicts: name, namespace, owner, source, created, expires,
        phase, node."""
        with self._life.use() as ptr:
            text = capi.devkit_replica_list(ptr, namespace)
        return json.loads(text)

    def delete_replica(self, name: str, *, namespace: Optional[str] = None,
                       timeout_ms: int = DELETE_TIMEOUT_MS) -> None:
        """Delete a replica by name (and its Istio rules) and wait until it is
        gone. A Pod that is not a devkit replica is refused
        (``InvalidArgumentError``)."""
        with self._life.use() as ptr:
            capi.devkit_replica_delete_name(ptr, namespace, name, int(timeout_ms))

    def gc(self, namespace: Optional[str] = None) -> int:
        """Delete every replica whose expiry has passed (in `namespace`, None:
        the client's, "*": all). Returns how many were deleted."""
        with self._life.use() as ptr:
            return int(capi.devkit_replica_gc(ptr, namespace))


class Replica(Handle):
    """A personal copy of a Pod in the cluster (``Kubernetes.replicate``).

    ``.stage`` is the last stage seen; every stage reached arrives as a
    ``REPLICA_STAGE`` event whose ``object_id`` is ``.id`` and whose
    ``address`` is the Pod's name. ``close()`` frees the handle (the copy stays
    in the cluster) unless the replica was made with ``delete_on_close``.
    """

    #: Labels and annotations the library writes on every replica.
    LABEL_MANAGED: str = capi.DEVKIT_REPLICA_LABEL_MANAGED
    LABEL_OWNER: str = capi.DEVKIT_REPLICA_LABEL_OWNER
    LABEL_TAG: str = capi.DEVKIT_REPLICA_LABEL_TAG
    ANNOTATION_SOURCE: str = capi.DEVKIT_REPLICA_ANNOTATION_SOURCE
    ANNOTATION_CREATED: str = capi.DEVKIT_REPLICA_ANNOTATION_CREATED
    ANNOTATION_EXPIRES: str = capi.DEVKIT_REPLICA_ANNOTATION_EXPIRES

    def __init__(self, k8s: Kubernetes, ptr: Any, *, delete_on_close: bool = False) -> None:
        # Called with the client held (Kubernetes.replicate), so it cannot close meanwhile.
        self._k8s = k8s  # keeps the client (and its context) alive
        self._name = capi.devkit_replica_name(ptr)
        self._namespace = capi.devkit_replica_namespace(ptr)
        self._id = capi.devkit_replica_id(ptr)
        self._close_errors: List[Error] = []
        self.delete_on_close = delete_on_close
        # The client's close frees us first: C needs the replica freed before it.
        self._life = Lifetime("replica", ptr, capi.devkit_replica_free, parent=k8s._life)
        k8s._replicas.add(self)
        # Collected without close(): the handle is freed, the copy is never deleted.
        self._finalizer = weakref.finalize(self, self._life.close)

    # -- lifetime ------------------------------------------------------------
    def close(self) -> None:
        """Free the handle; with ``delete_on_close``, delete the copy first
        (waiting up to DELETE_TIMEOUT_MS for it to be gone). Idempotent; never
        raises for a failed delete (``close_error`` says why)."""
        if self.delete_on_close and not self._life.closed:
            try:
                self.delete()
            except ClosedError:
                pass  # closed meanwhile by another thread
            except Error as e:
                self._close_errors.append(e)
        self._finalizer.detach()
        self._life.close()
        self._k8s._replicas.discard(self)

    @property
    def close_error(self) -> Optional[Error]:
        """Why the delete of ``delete_on_close`` failed, or None."""
        return self._close_errors[0] if self._close_errors else None

    def __repr__(self) -> str:
        try:
            stage = getattr(self.stage, "name", None) or str(self.stage)
        except ClosedError:
            stage = "closed"
        return f"<devkit.Replica id={self._id} {self._namespace}/{self._name} {stage.lower()}>"

    # -- state ---------------------------------------------------------------
    @property
    def kubernetes(self) -> Kubernetes:
        return self._k8s

    @property
    def name(self) -> str:
        """The Pod's name."""
        return self._name

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def id(self) -> int:
        """The id that events carry in ``object_id``."""
        return self._id

    @property
    def stage(self) -> Union[ReplicaStage, int]:
        """The stage last seen (``wait_ready`` and ``delete`` move it on)."""
        with self._life.use() as ptr:
            return to_enum(ReplicaStage, capi.devkit_replica_get_stage(ptr))

    def wait_ready(self, timeout_ms: Optional[int] = None) -> None:
        """Wait until the Pod is Ready, with REPLICA_STAGE events as it goes.

        `timeout_ms` None (or negative): no limit. Raises ``TimeoutError`` when
        the time runs out, ``Error`` (the base class, code ERROR) at once when
        the Pod cannot get further (image pull errors, crash loops,
        unschedulable); either message says at which stage it stopped and why:
        the Pod's conditions, the waiting container's reason and the latest
        events. ``ClosedError`` if the replica is closed (also from another
        thread while waiting) or was deleted."""
        deadline = None if timeout_ms is None or timeout_ms < 0 else \
            time.monotonic() + timeout_ms / 1000.0
        while True:
            if deadline is None:
                slice_ms = _WAIT_SLICE_MS
            else:
                slice_ms = min(_WAIT_SLICE_MS,
                               max(0, int((deadline - time.monotonic()) * 1000 + 0.999)))
            with self._life.use() as ptr:
                try:
                    capi.devkit_replica_wait_ready(ptr, slice_ms)
                    return
                except TimeoutError as e:
                    if deadline is not None and time.monotonic() >= deadline:
                        # C counted only the last slice: say the caller's time.
                        message = re.sub(r"not ready after \d+ ms",
                                         f"not ready after {timeout_ms} ms", e.message, count=1)
                        raise TimeoutError(message, e.code) from None
                    continue

    def delete(self, timeout_ms: int = DELETE_TIMEOUT_MS) -> None:
        """Delete the copy (and its Istio rules) and wait until it is gone
        (``TimeoutError`` if it is still terminating after `timeout_ms`). The
        handle stays open (stage DELETED) until ``close()``."""
        with self._life.use() as ptr:
            capi.devkit_replica_delete(ptr, int(timeout_ms))
