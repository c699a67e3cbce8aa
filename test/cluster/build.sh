#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kube-controller-manager, kubectl),
# MinIO and krew from the pinned Go wrapper modules beside this script.
#
# Idempotent: finished binaries are cached per wrapper under
#   ${KUBECTL_SNAPSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-snapshot}/bin/<key>/
# where <key> is a hash of the wrapper's go.mod and go.sum, so a version change rebuilds
# and an unchanged pin is reused. Prints the directory holding all binaries on stdout.
#
# Usage: build.sh [kube|etcd|minio|krew|velero ...]   (default: etcd minio krew kube velero)
# `velero` (Velero and velero-plugin-for-aws: the Velero interoperability e2e tests and the
# benchmark's comparison) is two wrappers, velero/ and velero-plugin-for-aws/, cached separately.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KUBECTL_SNAPSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-snapshot}
out="$cache/bin/current"
mkdir -p "$out"
export CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { printf '[cluster-build] %s\n' "$*" >&2; }

key_of() { cat "$here/$1/go.mod" "$here/$1/go.sum" | sha256sum | cut -c1-16; }

kube_ldflags() {
  local v; v=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$here/kube/go.mod")
  local major minor; major=${v#v}; major=${major%%.*}; minor=$(echo "$v" | cut -d. -f2)
  local f="-s -w"
  # Without these the binaries report v0.0.0-master, which breaks version skew checks.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    f+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$f"
}

build_one() {
  local name=$1 key dir
  key=$(key_of "$name")
  dir="$cache/bin/$name-$key"
  if [ -f "$dir/.done" ]; then
    log "$name: cached ($dir)"
  else
    log "$name: building (cold builds take long on few cores)"
    local start=$SECONDS tmp="$dir.tmp.$$"
    rm -rf "$tmp"; mkdir -p "$tmp"
    (
      cd "$here/$name"
      case $name in
        kube)  go build -trimpath -ldflags "$(kube_ldflags)" -o "$tmp/" \
                 k8s.io/kubernetes/cmd/kube-apiserver \
                 k8s.io/kubernetes/cmd/kube-controller-manager \
                 k8s.io/kubernetes/cmd/kubectl ;;
        etcd)  go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 ;;
        minio) go build -trimpath -ldflags "-s -w" -o "$tmp/minio" github.com/minio/minio ;;
        krew)  go build -trimpath -ldflags "-s -w" -o "$tmp/kubectl-krew" sigs.k8s.io/krew/cmd/krew ;;
        velero)
          v=$(awk '$1=="require" && $2=="github.com/vmware-tanzu/velero" {print $3}' go.mod)
          b=github.com/vmware-tanzu/velero/pkg/buildinfo
          go build -trimpath -ldflags "-s -w -X $b.Version=$v -X $b.GitTreeState=clean" \
            -o "$tmp/velero" github.com/vmware-tanzu/velero/cmd/velero ;;
        velero-plugin-for-aws)
          go build -trimpath -ldflags "-s -w" -o "$tmp/velero-plugin-for-aws" \
            github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws ;;
        *) log "unknown component $name"; exit 2 ;;
      esac
    )
    touch "$tmp/.done"
    rm -rf "$dir"; mv "$tmp" "$dir"
    log "$name: built in $((SECONDS - start))s"
  fi
  for f in "$dir"/*; do ln -sfn "$f" "$out/$(basename "$f")"; done
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(etcd minio krew kube velero)
for c in "${components[@]}"; do
  case $c in
    velero) build_one velero; build_one velero-plugin-for-aws ;;
    *) build_one "$c" ;;
  esac
done
echo "$out"
