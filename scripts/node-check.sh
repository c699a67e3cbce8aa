#!/usr/bin/env bash
# Run before the npm scripts that need Node (prebuild, pretest, …) and after `npm ci`
# (--install): says once, clearly, which node the project runs on when the registry had no
# binary of the project's Node for this platform, and stops a script on a node < 26.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/node-find.sh"
ks_find_node "$root"
case "$ks_node_kind" in
  project) exit 0 ;;
  path)
    if [ "${1:-}" = --install ]; then
      echo "kubectl-snapshot: the npm registry has no Node.js binary of the project's version for $(ks_platform); the npm scripts and bin/kubectl-snapshot use the node on PATH ($ks_node, $("$ks_node" --version))." >&2
    fi
    exit 0 ;;
  *)
    msg="kubectl-snapshot needs Node.js >= $ks_min_major: the npm registry has no Node.js binary of the project's version for $(ks_platform), and $ks_node_problem. Install Node.js $ks_min_major (https://nodejs.org) and put it on PATH."
    echo "$msg" >&2
    # A failed binary download must not fail `npm ci`; a script that needs Node must stop.
    [ "${1:-}" = --install ] && exit 0
    exit 1 ;;
esac
