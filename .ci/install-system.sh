#!/usr/bin/env bash
# Installs the Debian packages a fresh machine lacks: a software Vulkan driver (Mesa lavapipe >= 24 from
# bookworm-backports, since Dawn refuses Debian 12's Mesa 22.3), Chromium (SwiftShader; browser tests) and PyTorch for
# the system Python 3 (python3-torch, with libopenblas0-pthread: without it torch falls back to the reference BLAS),
# which test/torch.test.ts checks our models against.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
# Dawn refuses Debian 12's own Mesa 22.3 lavapipe: ask for Mesa 24 or later.
mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if [ ! -f /usr/share/vulkan/icd.d/lvp_icd.json ] || ! dpkg --compare-versions "${mesa:-0}" ge 24; then need+=(lavapipe); fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)
for p in python3-torch libopenblas0-pthread; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || { need+=(torch); break; }
done
[ ${#need[@]} -eq 0 ] && { echo "system packages present"; exit 0; }
. /etc/os-release
if [ "${VERSION_CODENAME:-}" = bookworm ] && [ ! -f /etc/apt/sources.list.d/backports.sources ]; then
  cat > /etc/apt/sources.list.d/backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1
else
  apt-get install -y -qq mesa-vulkan-drivers libvulkan1
fi
apt-get install -y -qq --no-install-recommends chromium fonts-liberation
if [[ " ${need[*]} " == *" torch "* ]]; then apt-get install -y -qq --no-install-recommends python3-torch libopenblas0-pthread; fi
