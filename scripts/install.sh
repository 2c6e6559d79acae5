#!/usr/bin/env bash
# Installs kgrec and its test/demo dependencies into the current Python, from PyPI.
# Re-running is cheap: pip skips what is already satisfied (torch is large: installed once).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
"$PYTHON" -m pip install --quiet --progress-bar off -e ".[dev]"
