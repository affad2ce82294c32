#!/usr/bin/env bash
# Create .venv in the checkout and install latsym, latsym-holstein and latsym-kondo (editable) with the dev extra.
# Unattended and idempotent: make calls it only when the install stamp is older than the metadata.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }

# torch: respect a build the user installed; otherwise the CPU wheel (found through the configured
# find-links on machines that carry it), never the multi-GB CUDA stack by accident.
if ! "$PY" -c "import torch" 2>/dev/null; then
    pip_install "torch==2.13.0" || pip_install torch
fi

# escnn's dependency py3nj compiles Fortran: get gfortran when we may, else install escnn without it.
if ! command -v gfortran >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gfortran) \
        >/dev/null 2>&1 || echo "setup: could not install gfortran; escnn will run without py3nj"
fi
if ! command -v gfortran >/dev/null 2>&1; then
    pip_install "numpy<2" "lie_learn>=0.0.2" joblib pymanopt autograd
    pip_install --no-deps "escnn>=1.0.10"
fi

pip_install -e ".[dev]" -e models/holstein -e models/kondo
touch "$VENV/.installed"
echo "setup: environment ready in $VENV"
