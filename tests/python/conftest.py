# SPDX-License-Identifier: Apache-2.0
"""pytest fixtures: one sshd bastion, one HTTP origin and one etcd per test module.

The tests use the installed ``devkit`` package (scripts/test_bindings.sh
installs it into build-py/venv with pip). Run by a Python where it is not
installed, this builds it once with ``pip install --target build-py/site`` so
that ``python3 -m pytest tests/python`` also works on its own.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fixtures import Dnsmasq, Etcd, HttpOrigin, Sshd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _ensure_devkit() -> None:
    try:
        import devkit  # noqa: F401
        return
    except ImportError:
        pass
    site = ROOT / "build-py" / "site"
    print(f"devkit is not installed for {sys.executable}: building it into {site}",
          file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--upgrade", "--no-deps", "--target", str(site), str(ROOT / "bindings/python")],
                   check=True)
    sys.path.insert(0, str(site))
    # Subprocesses (the examples, "import from any directory") need it too.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site), os.environ.get("PYTHONPATH")) if p)


_ensure_devkit()


@pytest.fixture(scope="module")
def sshd():
    server = Sshd()
    yield server
    server.close()


@pytest.fixture(scope="module")
def origin():
    server = HttpOrigin()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cluster_dns():
    server = Dnsmasq()
    yield server
    server.close()


@pytest.fixture(scope="module")
def etcd():
    server = Etcd()
    yield server
    server.close()


@pytest.fixture
def tunnel(sshd):
    import devkit
    with devkit.Tunnel(sshd.bastion, **sshd.tunnel_args()) as t:
        yield t
