#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Build and test the Python and Java bindings, the way a user installs them:
#
#   1. java:   mvn -f bindings/java package   (CMake + SWIG + JUnit 5, then the jar)
#   2. python: pip install ./bindings/python into build-py/venv, check that
#              `import devkit` works from another directory, then pytest
#              tests/python, which also runs examples/java/IdeAction.java with
#              nothing but the jar from step 1 on the class path
#
#   scripts/test_bindings.sh [--python] [--java]     (default: both)
#
# DEVKIT_LEAK_CYCLES=N shortens the 1,000-cycle leak tests for a quick run.
# Needs what scripts/setup.sh installs (swig, python3-dev, python3-venv, maven,
# a JDK, libdevkit's libraries, openssh-server). Exit status: non-zero if
# either suite failed; a summary comes last.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

want_python=0
want_java=0
for arg in "$@"; do
	case "$arg" in
	--python) want_python=1 ;;
	--java) want_java=1 ;;
	-h | --help)
		sed -n '4,18p' "$0"
		exit 0
		;;
	*)
		echo "test_bindings.sh: unknown option $arg" >&2
		exit 2
		;;
	esac
done
if [ $want_python -eq 0 ] && [ $want_java -eq 0 ]; then
	want_python=1
	want_java=1
fi

java_result=SKIP
python_result=SKIP

if [ $want_java -eq 1 ]; then
	printf '\n==== java: mvn -f bindings/java package ====\n'
	if mvn -f bindings/java -B --no-transfer-progress package; then
		java_result=PASS
	else
		java_result=FAIL
	fi
fi

if [ $want_python -eq 1 ]; then
	printf '\n==== python: pip install ./bindings/python, pytest tests/python ====\n'
	python_result=FAIL
	venv=$ROOT/build-py/venv
	# --system-site-packages: pytest comes from the machine (scripts/setup.sh).
	if { [ -x "$venv/bin/python" ] || python3 -m venv --system-site-packages "$venv"; } &&
		"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
			--force-reinstall --no-deps \
			--config-settings=build-dir="$ROOT/build-py/skbuild" ./bindings/python &&
		(cd /tmp && "$venv/bin/python" -c 'import devkit; print("devkit", devkit.__version__, "from", devkit.__file__)'); then
		# The Java example test needs the jar; insist on it when Java passed.
		require_java=
		[ "$java_result" = PASS ] && require_java=1
		if DEVKIT_REQUIRE_JAVA=$require_java "$venv/bin/python" -m pytest -q -rs tests/python; then
			python_result=PASS
		fi
	fi
fi

printf '\n==== bindings summary ====\njava    %s\npython  %s\n' "$java_result" "$python_result"
[ "$java_result" != FAIL ] && [ "$python_result" != FAIL ]
