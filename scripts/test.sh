#!/usr/bin/env bash
# The whole test suite, Neo4j tests included: installs kgrec, smoke-tests the built wheel in a
# fresh virtualenv (scripts/wheel_smoke.py: every module imports from the wheel, `kgrec --help`,
# `kgrec --version`, schema files present), then runs pytest (Debian's Chromium is installed
# first when missing, as root: the page-rendering tests need it). The test session starts a real
# Neo4j 5.26 server with docker/neo4j.sh (Java 17 + Maven) unless NEO4J_URI is set. Extra
# arguments go to pytest. Any failure fails the script, and so does pytest's exit status 5
# (no test collected): pytest's status is the script's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The rendering tests drive Debian's Chromium (packages chromium and chromium-driver).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq chromium chromium-driver >/dev/null \
            || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null; }
    else
        echo "test.sh: no chromium/chromedriver: the page-rendering tests skip (and fail under CI=true);" \
             "install Debian's chromium and chromium-driver" >&2
    fi
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"${PYTHON:-python3}" scripts/wheel_smoke.py
exec "${PYTHON:-python3}" -m pytest "$@"
