#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-kernel.sh OUTDIR [METAPACKAGE]
#
# Debian's current arm64 kernel as a raw Image, with a private apt
# configuration: the host's own sources (its sources.list and
# sources.list.d, whatever mirror they name) read for arm64 into state and
# cache directories under OUTDIR/apt, an empty dpkg status, so the host's
# dpkg architectures and package lists are not touched.  The kernel
# package is resolved through the metapackage (default
# linux-image-cloud-arm64), so a kernel update in the archive changes
# what is fetched, not this script.
#
# Writes OUTDIR/Image (uncompressed, as booting.rst "Call the kernel
# image" wants it), OUTDIR/kernel.version (the package name and version)
# and keeps the .deb in OUTDIR/apt/debs.
set -euo pipefail
mkdir -p "$1"; out=$(cd "$1" && pwd)
meta=${2:-linux-image-cloud-arm64}
apt=$out/apt
mkdir -p "$apt"/{state/lists/partial,cache/archives/partial,debs,etc} "$out"
: > "$apt/state/status"

# The host's trusted keys and sources, arm64 only, everything else ours.
A=(-o "APT::Architecture=arm64" -o "APT::Architectures::=arm64"
   -o "Dir::State=$apt/state" -o "Dir::State::status=$apt/state/status"
   -o "Dir::Cache=$apt/cache" -o "Dir::Etc::Preferences=/dev/null"
   -o "Dir::Etc::PreferencesParts=/dev/null" -o "Debug::NoLocking=1"
   -o "APT::Get::List-Cleanup=0" -o "Acquire::Languages=none"
   -o "APT::Sandbox::User=root")

echo "fetch-kernel: apt-get update (arm64 indices, private state in $apt)"
apt-get "${A[@]}" -qq update

# The metapackage's version, then its linux-image-* dependency.
dep=$(apt-cache "${A[@]}" depends "$meta:arm64" 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[^ :]*\).*/\1/p' | head -n1)
if [ -z "$dep" ]; then
  echo "fetch-kernel: $meta has no linux-image-* dependency for arm64" >&2
  exit 1
fi
ver=$(apt-cache "${A[@]}" policy "$dep:arm64" | sed -n 's/^ *Candidate: //p')
echo "fetch-kernel: $meta -> $dep $ver"

rm -f "$apt/debs/"*.deb
(cd "$apt/debs" && apt-get "${A[@]}" -qq download "$dep:arm64")
deb=$(ls "$apt/debs/"*.deb | head -n1)
rm -rf "$apt/root"
dpkg-deb -x "$deb" "$apt/root"
vmlinuz=$(ls "$apt/root/boot/"vmlinuz-* | head -n1)

# arm64 Debian ships the Image uncompressed; unpack gzip should it change.
if [ "$(head -c2 "$vmlinuz" | od -An -tx1 | tr -d ' ')" = "1f8b" ]; then
  gzip -dc "$vmlinuz" > "$out/Image.tmp"
else
  cp "$vmlinuz" "$out/Image.tmp"
fi
magic=$(dd if="$out/Image.tmp" bs=1 skip=56 count=4 2>/dev/null)
if [ "$magic" != $'ARM\x64' ]; then
  echo "fetch-kernel: $vmlinuz is not an arm64 Image" >&2
  exit 1
fi
mv "$out/Image.tmp" "$out/Image"
echo "$dep $ver" > "$out/kernel.version"
rm -rf "$apt/root"
echo "fetch-kernel: $out/Image ($(stat -c %s "$out/Image") bytes) from $(basename "$deb")"
