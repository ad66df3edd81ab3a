#!/usr/bin/env bash
# Builds kube-apiserver and etcd into BIN_DIR (default: bin/ of the
# repository) at the versions this module's go.mod pins, unless binaries of
# exactly those versions are already there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
cd "$here"

kube=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)

# has BINARY MODULE VERSION: the binary was built with that module version.
has() {
	[[ -x $1 ]] && go version -m "$1" 2>/dev/null | grep -qP "^\t(dep|mod)\t\Q$2\E\t\Q$3\E(\t|$)"
}

if has "$bin/kube-apiserver" k8s.io/kubernetes "$kube"; then
	echo "kube-apiserver $kube: up to date"
else
	# The version variables hack/lib/version.sh sets in Kubernetes' own build.
	minor=${kube#v1.}
	minor=${minor%%.*}
	ld="-s -w"
	for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
		ld+=" -X $pkg.gitVersion=$kube -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
	done
	echo "building kube-apiserver $kube"
	CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$bin/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
	mv "$bin/kube-apiserver.tmp" "$bin/kube-apiserver"
fi

if has "$bin/etcd" go.etcd.io/etcd/server/v3 "$etcd"; then
	echo "etcd $etcd: up to date"
else
	echo "building etcd $etcd"
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/etcd.tmp" ./etcd
	mv "$bin/etcd.tmp" "$bin/etcd"
fi
