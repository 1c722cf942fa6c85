#!/usr/bin/env bash
# One-time machine set-up (also run by .ci/run): Debian packages the tests and training need, npm
# dependencies, and a running local PostgreSQL when the machine has one. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: PyTorch for the trainer, dcmtk/gdcm for reference DICOM decodes, Orthanc with its
# DICOMweb plugin (the PACS the integration tests talk to), Chromium (dashboard browser test), and the
# validators of deploy/ (promtool from prometheus, docker-compose, nginx -t; scripts/lint-deploy.mjs), and
# FastAPI + uvicorn + python-multipart for the original design's serving stack (bench/peer/).
APT_PACKAGES=(python3-torch python3-torchvision python3-pil python3-numpy python3-fastapi python3-uvicorn python3-multipart dcmtk libgdcm-tools
  orthanc orthanc-dicomweb chromium prometheus docker-compose nginx-light)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: WARNING missing Debian packages (run as root to install): ${missing[*]}"
  fi
fi

# onnxruntime-node's install script downloads CUDA bits; the CPU binaries ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip
npm install --no-audit --no-fund

# Local PostgreSQL (CI and developer machines have one; the embedded PGlite is used otherwise).
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "setup: starting local PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi
