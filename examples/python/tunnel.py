#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Open a tunnel to a bastion, start a local proxy port, fetch a URL through it.

    python3 examples/python/tunnel.py root@bastion.example:22 http://orders:8080/health \
        --identity ~/.ssh/id_ed25519 --known-hosts ~/.ssh/known_hosts

The proxy port speaks SOCKS5, SOCKS4 and HTTP proxy at once: urllib uses it as
an HTTP proxy here; `--socks` fetches through SOCKS5 instead (a 20-line
client, to show the protocol without a third-party package). The URL's host is
resolved by the bastion, so cluster-only names work.
"""
from __future__ import annotations

import argparse
import socket
import sys
import urllib.parse
import urllib.request

import devkit


def fetch_via_http_proxy(proxy_port: int, url: str) -> bytes:
    proxy = f"http://127.0.0.1:{proxy_port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
    with opener.open(url, timeout=15) as response:
        return response.read()


def fetch_via_socks5(proxy_port: int, url: str) -> bytes:
    """HTTP/1.0 GET over a SOCKS5 CONNECT (RFC 1928, no authentication)."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=15) as s:
        s.sendall(b"\x05\x01\x00")                      # version 5, one method: none
        if s.recv(2) != b"\x05\x00":
            raise OSError("the proxy wants authentication")
        name = host.encode("idna")                      # the bastion resolves the name
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
        reply = s.recv(262)
        if len(reply) < 2 or reply[1] != 0:
            raise OSError(f"SOCKS5 CONNECT failed (reply {reply[1:2].hex()})")
        s.sendall(f"GET {parts.path or '/'} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise OSError(f"HTTP error: {head.splitlines()[0]!r}")
    return body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bastion", help="[user@]host[:port] of the SSH bastion")
    ap.add_argument("url", help="http:// URL to fetch through the tunnel")
    ap.add_argument("--identity", help="private key file")
    ap.add_argument("--known-hosts", help="known_hosts file (default ~/.ssh/known_hosts)")
    ap.add_argument("--socks", action="store_true", help="fetch through SOCKS5, not HTTP proxy")
    args = ap.parse_args()

    try:
        with devkit.Tunnel(args.bastion, identity_file=args.identity,
                           known_hosts_file=args.known_hosts, connect_timeout_ms=10000) as tunnel:
            print(f"connected: {tunnel.describe().get('host_key')} ({tunnel.state.name})")
            proxy = tunnel.dynamic_forward()  # 127.0.0.1, a free port
            print(f"proxy: socks5://127.0.0.1:{proxy.port}  http://127.0.0.1:{proxy.port}")
            fetch = fetch_via_socks5 if args.socks else fetch_via_http_proxy
            body = fetch(proxy.port, args.url)
            print(f"fetched {len(body)} bytes: {body[:200].decode(errors='replace')!r}")
            for event in tunnel.context.events(timeout=0):
                print(f"event: {event}")
    except devkit.HostKeyError as e:
        print(f"the bastion's host key is not trusted: {e}", file=sys.stderr)
        return 1
    except devkit.Error as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"fetch failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
