#!/usr/bin/env bash
# Moves the tracing export thread of every running gateway to another core, every half second,
# so that a bench/ab.ts run measures tracing with the event loop alone on the proxy core:
#   bash bench/experiments/pin-export-thread.sh 1 &
#   BENCH_AB_STARTS=6 node_modules/.bin/node bench/ab.ts fleetgate fleetgate-tracing
#   kill %1
# The export thread is the only thread of a gateway named WorkerThread (Node's name for a worker).
set -u
core="${1:-1}"
while true; do
  for task in /proc/[0-9]*/task/*; do
    [ "$(cat "$task/comm" 2>/dev/null)" = WorkerThread ] || continue
    pid="${task#/proc/}"
    pid="${pid%%/*}"
    grep -q 'fleetgate' "/proc/$pid/cmdline" 2>/dev/null || continue
    grep -q 'ab.ts' "/proc/$pid/cmdline" 2>/dev/null && continue
    taskset -p -c "$core" "${task##*/}" >/dev/null 2>&1
  done
  sleep 0.5
done
