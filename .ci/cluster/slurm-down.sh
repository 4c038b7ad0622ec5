#!/usr/bin/env bash
# Stop the daemons slurm-up.sh started in DIR (by their pid files only).
set -uo pipefail
dir=${1:?usage: slurm-down.sh DIR}
for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
done
# Remove the config symlink only if it still points into DIR.
if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$(cd "$dir" 2>/dev/null && pwd)/slurm.conf" ]; then
  rm -f /etc/slurm/slurm.conf
fi
