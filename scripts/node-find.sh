# Sourced by bin/kubectl-snapshot and scripts/node-check.sh: which node runs the project.
# The `node` package (an optional dependency) puts the project's own Node at
# node_modules/.bin/node; where the npm registry has no binary of that version for this
# platform, its install fails without failing `npm ci`, and a node >= 26 on PATH is used.
# Sets ks_node (empty when none is usable), ks_node_kind (project|path|none) and
# ks_node_problem (why the PATH's node is not usable).
ks_min_major=26
ks_find_node() {
  local root=$1 own="$1/node_modules/.bin/node" cand major
  ks_node= ks_node_kind=none ks_node_problem=
  if [ -x "$own" ]; then
    ks_node=$own ks_node_kind=project
    return
  fi
  # Not `command -v node`: inside npm scripts node_modules/.bin is on PATH, already checked.
  cand=$(PATH=$(printf %s "$PATH" | tr ':' '\n' | grep -vxF "$root/node_modules/.bin" | paste -sd: -) command -v node || true)
  if [ -z "$cand" ]; then
    ks_node_problem="there is no node on PATH"
    return
  fi
  major=$("$cand" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "${major:-0}" -lt "$ks_min_major" ] 2>/dev/null; then
    ks_node_problem="the node on PATH ($cand) is $("$cand" --version 2>/dev/null || echo 'unknown'), older than $ks_min_major"
    return
  fi
  ks_node=$cand ks_node_kind=path
}
ks_platform() { printf '%s-%s' "$(uname -s | tr '[:upper:]' '[:lower:]')" "$(uname -m)"; }
