# SPDX-License-Identifier: Apache-2.0
"""Each exception class, provoked the way a user would meet it."""
from __future__ import annotations

import socket

import pytest

import devkit
from fixtures import SilentServer, free_port


def open_tunnel(sshd, bastion=None, **overrides):
    args = sshd.tunnel_args()
    args.update(overrides)
    args.setdefault("connect_timeout_ms", 5000)
    return devkit.Tunnel(bastion or sshd.bastion, **args)


def test_wrong_key_is_auth_error(sshd):
    with pytest.raises(devkit.AuthError) as info:
        open_tunnel(sshd, identity_file=str(sshd.other_key))
    assert info.value.code == devkit.ErrorCode.EAUTH
    assert "authentication failed" in str(info.value)


def test_unknown_host_key_is_host_key_error(sshd):
    with pytest.raises(devkit.HostKeyError) as info:
        open_tunnel(sshd, known_hosts_file=str(sshd.empty_known_hosts))
    assert info.value.code == devkit.ErrorCode.EHOSTKEY
    assert "SHA256:" in str(info.value)  # the message names the key it saw


def test_changed_host_key_is_host_key_error(sshd, tmp_path):
    other = open(f"{sshd.other_key}.pub").read().split()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n")
    with pytest.raises(devkit.HostKeyError, match="mismatch"):
        open_tunnel(sshd, known_hosts_file=str(known))
    # ACCEPT_NEW trusts unknown keys, never changed ones.
    with pytest.raises(devkit.HostKeyError):
        open_tunnel(sshd, known_hosts_file=str(known),
                    host_key_policy=devkit.HostKeyPolicy.ACCEPT_NEW)


def test_pinned_fingerprint(sshd):
    with open_tunnel(sshd, host_key_sha256=sshd.host_fingerprint) as t:
        assert t.state == devkit.TunnelState.UP
    with pytest.raises(devkit.HostKeyError):
        open_tunnel(sshd, host_key_sha256="SHA256:" + "A" * 43)


def test_accept_new_appends_to_known_hosts(sshd, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    with open_tunnel(sshd, known_hosts_file=str(known),
                     host_key_policy=devkit.HostKeyPolicy.ACCEPT_NEW):
        pass
    assert f"[127.0.0.1]:{sshd.port}" in known.read_text()


def test_refused_port_is_connection_refused(sshd):
    with pytest.raises(devkit.ConnectionRefusedError) as info:
        open_tunnel(sshd, bastion=f"root@127.0.0.1:{free_port()}")
    assert isinstance(info.value, ConnectionRefusedError)  # the built-in, too


def test_silent_server_is_timeout(sshd):
    silent = SilentServer()
    try:
        with pytest.raises(devkit.TimeoutError) as info:
            open_tunnel(sshd, bastion=f"root@127.0.0.1:{silent.port}", connect_timeout_ms=500)
        assert info.value.code == devkit.ErrorCode.ETIMEOUT
    finally:
        silent.close()


def test_other_protocol_is_protocol_error(sshd):
    http = SilentServer(banner=b"HTTP/1.1 400 Bad Request\r\n\r\n")
    try:
        with pytest.raises(devkit.ProtocolError):
            open_tunnel(sshd, bastion=f"root@127.0.0.1:{http.port}")
    finally:
        http.close()


def test_unresolvable_bastion_is_not_found(sshd):
    with pytest.raises(devkit.NotFoundError):
        open_tunnel(sshd, bastion="root@no-such-host.invalid:22")


def test_port_in_use_is_exists_error(tunnel):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(devkit.ExistsError) as info:
            tunnel.dynamic_forward(bind_port=taken.getsockname()[1])
        assert info.value.code == devkit.ErrorCode.EEXISTS


def test_bad_forward_options_are_invalid_argument(tunnel):
    with pytest.raises(devkit.InvalidArgumentError):
        tunnel.dynamic_forward(bind_port=70000)
    with pytest.raises(devkit.InvalidArgumentError):
        tunnel.local_forward("", 80)
    with pytest.raises(devkit.InvalidArgumentError):
        tunnel.add_forward(99)


def test_non_loopback_listener_must_be_asked_for(tunnel):
    with pytest.raises(devkit.Error) as info:
        tunnel.dynamic_forward(bind_address="0.0.0.0")
    assert info.value.code in (devkit.ErrorCode.EINVAL, devkit.ErrorCode.EFORBIDDEN)


def test_use_after_close_is_closed_error(sshd):
    t = open_tunnel(sshd)
    fwd = t.dynamic_forward()
    t.close()
    assert fwd.closed  # closing the tunnel ended its forwards
    for call in (lambda: t.state, t.stats, t.describe, t.dynamic_forward,
                 lambda: fwd.port, fwd.stats):
        with pytest.raises(devkit.ClosedError):
            call()


def test_error_is_catchable_as_base_class(sshd):
    with pytest.raises(devkit.Error):
        open_tunnel(sshd, identity_file=str(sshd.other_key))
