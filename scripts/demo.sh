#!/usr/bin/env bash
# The main job, end to end on the embedded store (no server): installs kgrec, then runs
# `kgrec demo` on the datasets in ../shared/data (or KGREC_DATA). Extra arguments go to the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "${PYTHON:-python3}" -m kgrec.cli demo "$@"
