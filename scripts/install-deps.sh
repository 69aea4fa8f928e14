#!/usr/bin/env bash
# Installs the Debian packages repro needs (idempotent; needs root or sudo).
set -euo pipefail
pkgs=(libopenblas-dev libcairo2-dev libpng-dev zlib1g-dev pkg-config fonts-dejavu-core
      dataset-fashion-mnist bible-kjv diatheke sword-text-sparv)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
