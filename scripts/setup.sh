#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs everything libdevkit needs to build and test, on Debian 12 as root
# (or through sudo). Idempotent and quiet: when everything is present it only
# checks, and it runs `apt-get update` at most once, only if something is
# missing. Safe to run on every CI run.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { say "must run as root (or with sudo available)"; exit 1; }
	SUDO=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive

# Build, libraries, test tools. Keep sorted by purpose, one reason each.
PACKAGES=(
	build-essential cmake ninja-build pkg-config   # toolchain
	libssh2-1-dev libssl-dev libuv1-dev            # transport, crypto, loop
	libc-ares-dev libcurl4-openssl-dev             # DNS, HTTP
	libyaml-dev libjansson-dev libwebsockets-dev   # config, JSON, k8s streams
	libzookeeper-st-dev                            # the Dubbo registry's client, on our loop
	libcriterion-dev                               # C tests
	openssh-server openssh-client                  # the bastion fixture and the peer we compare with
	socat dnsmasq-base iproute2 nftables           # the namespaced "cloud" fixture
	curl netcat-openbsd procps passwd openssl              # clients and process tools in tests
	zookeeper etcd-server etcd-client python3-kazoo   # real registries and their consumers
	busybox                                        # the replica keep-alive script under busybox sh
	libwebsockets-evlib-uv                         # loaded at run time by libwebsockets for our loop
	tcpdump tshark                                 # capture in the test Pod sandbox; pcap checked by tshark -r
	proxychains4                                   # what users have today, compared with in tests/run
	swig python3-dev python3-pip python3-venv maven   # bindings
)
# A JDK for the JNI binding: any one will do (the machine may already have
# openjdk-17 without Debian's default-jdk metapackage).
command -v javac >/dev/null || PACKAGES+=(default-jdk-headless)

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	say "installing: ${missing[*]}"
	"${SUDO[@]}" apt-get update -qq
	"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	say "all ${#PACKAGES[@]} Debian packages present"
fi

# Python test tools for whichever python3 is first in PATH (a pyenv one on
# developer machines, Debian's on a fresh one, where PEP 668 wants
# --break-system-packages for a root-wide pip install).
py_missing=()
python3 -c 'import pytest' 2>/dev/null || py_missing+=(pytest)
python3 -c 'import scikit_build_core' 2>/dev/null || py_missing+=(scikit-build-core)
python3 -c 'import jsonschema' 2>/dev/null || py_missing+=(jsonschema)   # docs/devkit.schema.json
python3 -c 'import yaml' 2>/dev/null || py_missing+=(PyYAML)            # config examples
command -v kubernetes-validate >/dev/null || py_missing+=(kubernetes-validate)  # replica Pods vs the k8s schema
python3 -c 'import kubernetes.stream' 2>/dev/null || py_missing+=(kubernetes)   # the official client vs the k8s fixture's streams
if [ "${#py_missing[@]}" -gt 0 ]; then
	say "pip installing: ${py_missing[*]}"
	python3 -m pip install -q --disable-pip-version-check "${py_missing[@]}" 2>/dev/null ||
		python3 -m pip install -q --disable-pip-version-check --break-system-packages "${py_missing[@]}"
fi

# sshd's privilege separation directory; Debian makes it at boot only.
"${SUDO[@]}" mkdir -p /run/sshd

# The local user for password and keyboard-interactive tests against the sshd
# fixture: sshd checks passwords against the system's user database, so the
# user has to exist. The password must match FX_SSHD_PASSWORD in
# tests/fixtures/sshd_fixture.h (the fixture also creates the user if missing).
TEST_USER=devkit-test
TEST_PASSWORD='devkit-Test-pw-7'
if ! id "$TEST_USER" >/dev/null 2>&1; then
	say "creating user $TEST_USER"
	"${SUDO[@]}" useradd -m -s /bin/bash "$TEST_USER"
fi
printf '%s:%s\n' "$TEST_USER" "$TEST_PASSWORD" | "${SUDO[@]}" chpasswd
