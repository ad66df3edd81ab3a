#!/usr/bin/env bash
# go-install.sh BIN_DIR NAME PACKAGE VERSION
# Installs PACKAGE@VERSION from the Go module proxy as BIN_DIR/NAME, unless
# BIN_DIR/NAME is already that package at that version (read from the
# binary's build information, so a warm machine skips the build).
set -euo pipefail
if [[ $# -ne 4 ]]; then
	echo "usage: $0 BIN_DIR NAME PACKAGE VERSION" >&2
	exit 2
fi
bin=$1 name=$2 pkg=$3 version=$4
target=$bin/$name

if [[ -x $target ]] &&
	info=$(go version -m "$target" 2>/dev/null) &&
	grep -qP "^\tpath\t\Q$pkg\E$" <<<"$info" &&
	grep -qP "^\tmod\t\S+\t\Q$version\E(\t|$)" <<<"$info"; then
	echo "$name $version: up to date"
	exit 0
fi

echo "installing $name: $pkg@$version"
mkdir -p "$bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOBIN=$tmp CGO_ENABLED=0 go install "$pkg@$version"
mv "$tmp/$(basename "$pkg")" "$target"
