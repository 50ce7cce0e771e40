#!/usr/bin/env bash
# What a CI pass that is about to hit its time bound is doing: every process under PID (the pass),
# with its state, the kernel function it waits in and its CPU time, then each Node.js process's
# threads and its main thread's native stack (gdb). Run by .ci/run shortly before the bound, so
# that a hang says where it hangs: e.g. an idle event loop (epoll_wait) against a main thread
# blocked on V8's worker threads (NodePlatform::DrainTasks). Prints no command lines, environments
# or function arguments: they can hold the test stack's tokens.
set -uo pipefail
root=${1:?usage: hang-report.sh PID}

descendants() {
  echo "$1"
  for child in $(pgrep -P "$1"); do descendants "$child"; done
}

echo "--- processes under $root (pid ppid state wchan cpu-time elapsed-s name)"
pids=$(descendants "$root")
ps -o pid=,ppid=,stat=,wchan:32=,time=,etimes=,comm= -p "$(echo $pids | tr ' ' ,)" 2>/dev/null

if ! command -v gdb >/dev/null 2>&1; then
  echo "--- no gdb: no native stacks"
  exit 0
fi
for pid in $pids; do
  [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = node ] || continue
  echo "--- the main thread of node process $pid ($(ps -o time= -p "$pid") of CPU)"
  for task in /proc/"$pid"/task/*; do
    printf '  thread %s %s: %s\n' "${task##*/}" "$(cat "$task/comm" 2>/dev/null)" "$(cat "$task/wchan" 2>/dev/null)"
  done
  timeout 30 gdb -p "$pid" -batch -nx -ex 'set print frame-arguments none' -ex 'set print entry-values no' \
    -ex 'bt 30' 2>&1 | grep -E '^#' | cut -c1-200
done
