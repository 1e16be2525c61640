#!/usr/bin/env bash
# Thin wrapper: run the benchmark (bench/run.ts) with the repo's pinned Node 24.
# Usage from the repo root: bash bench/run.sh   (or: pnpm bench). Knobs: see bench/README.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node="$root/node_modules/.bin/node"
if [ ! -x "$node" ]; then
  echo "bench: $node is missing; run the setup first: npx -y pnpm@10 install" >&2
  exit 1
fi
cd "$root"
exec "$node" bench/run.ts "$@"
