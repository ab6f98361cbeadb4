# SPDX-License-Identifier: Apache-2.0
"""The examples run as a user runs them: separate processes, no test helpers."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mode", [[], ["--socks"]], ids=["http-proxy", "socks5"])
def test_python_example_fetches_through_the_tunnel(sshd, origin, tmp_path, mode):
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/tunnel.py"), sshd.bastion,
         f"http://localhost:{origin.port}/example", "--identity", str(sshd.user_key),
         "--known-hosts", str(sshd.known_hosts), *mode],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "hello from /example" in out.stdout
    assert "forward-ready" in out.stdout


def test_python_example_reports_an_untrusted_host(sshd, origin, tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/tunnel.py"), sshd.bastion,
         f"http://localhost:{origin.port}/", "--identity", str(sshd.user_key),
         "--known-hosts", str(sshd.empty_known_hosts)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "not trusted" in out.stderr


def _jar() -> str | None:
    if os.environ.get("DEVKIT_JAR"):
        return os.environ["DEVKIT_JAR"]
    found = sorted(glob.glob(str(ROOT / "bindings/java/target/devkit-*[0-9].jar")))
    return found[-1] if found else None


def test_java_example_with_a_plain_classpath(sshd, origin, tmp_path):
    """`java -cp devkit.jar IdeAction.java`: the JNI library comes out of the jar."""
    jar = _jar()
    if not jar or not shutil.which("java"):
        if os.environ.get("DEVKIT_REQUIRE_JAVA"):
            pytest.fail("DEVKIT_REQUIRE_JAVA is set but there is no jar (mvn package)")
        pytest.skip("no devkit jar: run mvn -f bindings/java package first")
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    out = subprocess.run(
        ["java", "-cp", jar, str(ROOT / "examples/java/IdeAction.java"), sshd.bastion,
         "--identity", str(sshd.user_key), "--known-hosts", str(sshd.known_hosts),
         "--url", f"http://localhost:{origin.port}/ide"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "hello from /ide" in out.stdout
    assert "[event] tunnel-state" in out.stdout and "Disconnected" in out.stdout
