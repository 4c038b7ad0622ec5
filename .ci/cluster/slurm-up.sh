#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine (as root): munged, slurmctld and slurmd,
# configured, logging and keeping state inside DIR. The one file outside DIR is a symlink
# /etc/slurm/slurm.conf -> DIR/slurm.conf: srun inside a job step ignores SLURM_CONF (the
# executor plugin clears SLURM_* variables there), so the config must sit at its default path.
# Usage: slurm-up.sh DIR    stop with: slurm-down.sh DIR (removes the symlink too).
set -euo pipefail
dir=${1:?usage: slurm-up.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [ "$(id -u)" != 0 ]; then
  echo "slurm-up.sh: must run as root (it installs packages and starts daemons)" >&2
  exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

host=$(hostname -s)
cpus=${SLURM_CPUS:-2}
memory_mb=${SLURM_MEMORY_MB:-20000}
partition=${SLURM_PARTITION:-quick}
mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
chmod 700 "$dir" "$dir/munge"

# A fresh key for this cluster only; munged insists it is private to its owner.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
  --seed-file="$dir/munge/munged.seed"

cat > "$dir/slurm.conf" <<CONF
# Single-node test cluster, written by .ci/cluster/slurm-up.sh.
ClusterName=kryptonite
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
# No cgroup hierarchy to rely on in a container: track processes by parent id.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
# Jobs share the node by cores and memory, as on a real cluster.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# No slurmdbd here, so Snakemake polls squeue: keep finished jobs visible long enough.
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=$partition Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
# slurm.conf names a cgroup plugin nowhere, but slurmd still reads cgroup.conf if present.
printf 'CgroupPlugin=autodetect\nIgnoreSystemd=yes\n' > "$dir/cgroup.conf"

if [ -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
  echo "slurm-up.sh: /etc/slurm/slurm.conf exists and is not ours; refusing to replace it" >&2
  exit 1
fi
mkdir -p /etc/slurm
ln -sfn "$dir/slurm.conf" /etc/slurm/slurm.conf
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"

# Wait until the node takes jobs.
for _ in $(seq 60); do
  state=$(sinfo --noheader --format=%t --nodes="$host" 2>/dev/null || true)
  case "$state" in
    idle|mix|alloc) echo "slurm-up.sh: node $host is $state (SLURM_CONF=$SLURM_CONF)"; exit 0 ;;
  esac
  sleep 1
done
echo "slurm-up.sh: node $host never became idle (state '${state:-none}'); logs:" >&2
tail -n 30 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 1
