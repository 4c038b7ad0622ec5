#!/usr/bin/env bash
# `make test-cluster`: run the quick study through a real (single-node) SLURM cluster with
# profiles/slurm and check it gives exactly the numbers of a local run.
# Needs root: installs slurm-wlm and munge with apt-get if missing and starts the daemons.
# Environment: CLUSTER_CONFIG (default config/quick.yaml), CLUSTER_TARGETS (default: all),
# KEEP=1 keeps the temporary directory for inspection.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
snakemake="$repo/.venv/bin/snakemake"
python="$repo/.venv/bin/python"
config=${CLUSTER_CONFIG:-$repo/config/quick.yaml}
read -r -a targets <<< "${CLUSTER_TARGETS:-}"
work=$(mktemp -d /tmp/kryptonite-cluster.XXXXXX)
started=$(date +%s)

cleanup() {
  bash "$repo/.ci/cluster/slurm-down.sh" "$work/slurm"
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

bash "$repo/.ci/cluster/slurm-up.sh" "$work/slurm"
export SLURM_CONF="$work/slurm/slurm.conf"

common=(--snakefile "$repo/workflow/Snakefile" --configfile "$config")

echo "== local reference run"
"$snakemake" "${targets[@]}" "${common[@]}" --directory "$work/local" --cores 2 --quiet rules

echo "== the same run through SLURM"
# This test cluster has no accounting database (so no sacct and no accounts): poll squeue,
# submit without an account, and check often since quick jobs take seconds.
"$snakemake" "${targets[@]}" "${common[@]}" --directory "$work/cluster" --workflow-profile "$repo/profiles/slurm" \
  --slurm-status-command squeue --slurm-no-account --slurm-init-seconds-before-status-checks 2 \
  --latency-wait 5 --quiet rules

# Every job really went through SLURM: one completed SLURM job per Snakemake job.
slurm_jobs=$(squeue --states=all --noheader --format='%T' | grep -c COMPLETED || true)
failed=$(squeue --states=all --noheader --format='%T' | grep -vc COMPLETED || true)
local_jobs=$(find "$work/local/logs" -name '*.benchmark.tsv' | wc -l)
cluster_jobs=$(find "$work/cluster/logs" -name '*.benchmark.tsv' | wc -l)
echo "SLURM jobs completed: $slurm_jobs (other states: $failed); jobs with benchmarks: local $local_jobs, cluster $cluster_jobs"
if [ "$slurm_jobs" -lt "$cluster_jobs" ] || [ "$cluster_jobs" -ne "$local_jobs" ]; then
  echo "test-cluster: not every job ran through SLURM" >&2
  exit 1
fi

echo "== compare"
"$python" "$repo/.ci/cluster/compare_runs.py" "$work/local" "$work/cluster"
echo "test-cluster: passed in $(( $(date +%s) - started )) s"
