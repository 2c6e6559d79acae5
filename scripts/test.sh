#!/usr/bin/env bash
# The whole test suite, Neo4j tests included: installs kgrec, then runs pytest. The test session
# starts a real Neo4j 5.26 server with docker/neo4j.sh (Java 17 + Maven) unless NEO4J_URI is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "${PYTHON:-python3}" -m pytest "$@"
