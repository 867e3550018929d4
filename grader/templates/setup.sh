#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu, as root), from
# /autograder/source, where this bundle was unpacked.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck disable=SC1091
source ./convkata.env

apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv >/dev/null

# A virtual environment of its own, with the CPU build of torch (no CUDA wheels: smaller, faster).
python3 -m venv /opt/convkata
/opt/convkata/bin/pip install --quiet --upgrade pip
/opt/convkata/bin/pip install --quiet "torch==${CONVKATA_TORCH}" --index-url https://download.pytorch.org/whl/cpu
/opt/convkata/bin/pip install --quiet ./convkata

# Learner code runs as this unprivileged user: it cannot write /autograder/results or signal the
# root script that checks the grader's result.
id convkata >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin convkata
/opt/convkata/bin/grader doctor || true
