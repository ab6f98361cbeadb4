# SPDX-License-Identifier: Apache-2.0
"""The surface of the module, without a bastion: version, defaults, errors, typing."""
from __future__ import annotations

import importlib.resources
import re
import subprocess
import sys

import pytest

import devkit
from devkit import capi


def test_version_is_the_c_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", devkit.__version__)
    assert devkit.__version__ == devkit.library_version()
    major, minor, patch = capi.devkit_version()[1:]
    assert devkit.__version__ == f"{major}.{minor}.{patch}"


def test_import_from_any_directory(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import devkit; print(devkit.__version__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == devkit.__version__


def test_options_start_from_the_c_defaults():
    t = capi.devkit_tunnel_options()
    assert (t.version, t.use_agent, t.connect_timeout_ms, t.keepalive_interval_s,
            t.keepalive_count_max, t.reconnect, t.reconnect_initial_ms, t.reconnect_max_ms,
            t.reconnect_max_attempts) == (capi.DEVKIT_TUNNEL_OPTIONS_VERSION, 1, 15000, 15, 3,
                                          1, 250, 30000, 0)
    assert t.bastion is None and t.host_key_policy == devkit.HostKeyPolicy.STRICT
    f = capi.devkit_forward_options()
    assert (f.kind, f.bind_port, f.bind_address) == (devkit.ForwardKind.LOCAL, 0, None)
    c = capi.devkit_ctx_options()
    assert (c.log_level, c.event_queue_max) == (devkit.LogLevel.WARN, 4096)


def test_option_strings_are_owned_by_the_struct():
    o = capi.devkit_tunnel_options()
    o.bastion = "a@b:1"
    o.bastion = "c@d:2"           # replaces the copy, frees the old one
    value = "x" * 1000
    o.user = value
    del value
    assert (o.bastion, o.user) == ("c@d:2", "x" * 1000)
    o.user = None
    assert o.user is None


def test_version_field_is_read_only():
    with pytest.raises(AttributeError):
        capi.devkit_tunnel_options().version = 99


@pytest.mark.parametrize("code,cls", [
    (-1, devkit.Error), (-2, devkit.InvalidArgumentError), (-3, devkit.NoMemoryError),
    (-4, devkit.IoError), (-5, devkit.TimeoutError), (-6, devkit.NotFoundError),
    (-7, devkit.ConnectionRefusedError), (-8, devkit.HostKeyError), (-9, devkit.AuthError),
    (-10, devkit.ProtocolError), (-11, devkit.ClosedError), (-12, devkit.ExistsError),
    (-13, devkit.UnsupportedError), (-14, devkit.ForbiddenError), (-99, devkit.Error),
])
def test_each_code_has_its_class(code, cls):
    from devkit._errors import _from_code
    e = _from_code(code, "why")
    assert type(e) is cls and isinstance(e, devkit.Error)
    assert (e.code, str(e)) == (code, "why")
    assert devkit.strerror(code)


def test_errors_also_are_the_python_builtins():
    assert issubclass(devkit.TimeoutError, TimeoutError)
    assert issubclass(devkit.ConnectionRefusedError, ConnectionRefusedError)
    assert issubclass(devkit.InvalidArgumentError, ValueError)
    assert issubclass(devkit.IoError, OSError)


def test_c_failure_raises_with_the_c_message():
    with devkit.Context() as ctx:
        with pytest.raises(devkit.InvalidArgumentError) as info:
            devkit.Tunnel("", ctx=ctx)
        assert info.value.code == devkit.ErrorCode.EINVAL
        assert "no bastion" in str(info.value)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        devkit.Tunnel("h", no_such_option=1)


def test_context_close_twice_and_use_after_close():
    ctx = devkit.Context()
    assert ctx.fileno() >= 0
    ctx.close()
    ctx.close()
    assert ctx.closed
    with pytest.raises(devkit.ClosedError):
        ctx.poll()
    with pytest.raises(devkit.ClosedError):
        ctx.fileno()
    with pytest.raises(devkit.ClosedError):
        devkit.Tunnel("root@127.0.0.1:1", ctx=ctx)


def test_poll_times_out_with_none():
    with devkit.Context() as ctx:
        assert ctx.poll(0) is None
        assert ctx.poll(0.05) is None
        assert list(ctx.events(timeout=0.05)) == []


def test_package_is_typed():
    files = importlib.resources.files("devkit")
    assert files.joinpath("py.typed").is_file()
    assert files.joinpath("capi.pyi").is_file()  # the generated layer, typed as Any
    import inspect
    sig = inspect.signature(devkit.Tunnel.__init__)
    assert "identity_file" in sig.parameters and "reconnect" in sig.parameters
    assert {"cluster_dns", "upstream", "ndots", "search"} <= set(
        inspect.signature(devkit.Tunnel.dns).parameters)
    assert {"dns", "control_path", "open_timeout_ms"} <= set(
        inspect.signature(devkit.Router.__init__).parameters)
    assert "log_events" in inspect.signature(devkit.Context.__init__).parameters
    assert inspect.signature(devkit.Dns.resolve).return_annotation == "List[str]"
