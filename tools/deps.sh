#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages named on the command line when they are missing.
# As root: apt-get update (once) and apt-get install.  Otherwise: name what is
# missing and the command that installs it, and fail.
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "virtq: missing Debian packages: ${missing[*]}" >&2
  echo "virtq: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "virtq: no apt-get here; install by hand: ${missing[*]}" >&2
  exit 1
fi
echo "virtq: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
