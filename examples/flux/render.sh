#!/usr/bin/env bash
# Renders a kustomization with the inject-sidecar exec function into a
# directory of plain manifests that Flux deploys. Flux cannot run KRM
# functions (kustomize-controller builds with plugins disabled), so CI
# renders and Flux applies the result.
#
#   render.sh SOURCE_DIR OUTPUT_DIR
#
# Writes OUTPUT_DIR/manifests.yaml. The file is replaced only after a
# complete, non-empty render: on any failure the previous one stays, since
# an empty directory would make Flux (prune: true) delete every resource.
# With FLUX_OCI_URL set (e.g. oci://ghcr.io/org/shop-manifests:main), the
# directory is then pushed as an OCI artifact with `flux push artifact`.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 SOURCE_DIR OUTPUT_DIR" >&2
	exit 2
fi
src=$1 out=$2
kustomize=${KUSTOMIZE:-kustomize}

mkdir -p "$out"
tmp=$(mktemp "$out/.manifests.yaml.XXXXXX")
trap 'rm -f "$tmp"' EXIT

"$kustomize" build --enable-alpha-plugins --enable-exec "$src" >"$tmp"
if ! grep -q '[^[:space:]]' "$tmp"; then
	echo "$0: $src rendered no resources; keeping $out/manifests.yaml as it was" >&2
	exit 1
fi
chmod 0644 "$tmp"
mv "$tmp" "$out/manifests.yaml"
echo "rendered $src into $out/manifests.yaml" >&2

if [[ -n ${FLUX_OCI_URL:-} ]]; then
	flux push artifact "$FLUX_OCI_URL" \
		--path="$out" \
		--source="${FLUX_OCI_SOURCE:-$(git config --get remote.origin.url || echo unknown)}" \
		--revision="${FLUX_OCI_REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
fi
