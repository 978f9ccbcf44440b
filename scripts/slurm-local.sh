#!/bin/sh
# Starts a real single-node Slurm on this machine (Debian's slurmctld,
# slurmd and munge; CPU only) for the slurm executor's tests, and prints
# how to use it. Idempotent: installs what is missing, writes
# /etc/slurm/slurm.conf from this machine's hardware (slurmd -C) when it
# differs, starts only the daemons that are not running, and waits until
# the node accepts jobs. Needs root (or sudo) and the Debian archive.
#
#   scripts/slurm-local.sh          start (or check) the cluster
#   scripts/slurm-local.sh stop     stop the daemons this script starts
#
# Finished jobs stay visible to `scontrol show job` for MinJobAge (1 h) and
# are logged with their exit codes in /var/log/slurm/jobcomp.log
# (jobcomp/filetxt); there is no accounting database, so no sacct.
set -eu

SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi
CONF=/etc/slurm/slurm.conf
LOGS=/var/log/slurm

pid_alive() { # pidfile
	[ -s "$1" ] && $SUDO kill -0 "$(cat "$1")" 2>/dev/null
}

if [ "${1:-}" = stop ]; then
	for f in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
		if pid_alive "$f"; then
			$SUDO kill "$(cat "$f")"
		fi
	done
	echo "slurm-local: stopped"
	exit 0
fi

missing=
for b in slurmctld slurmd sbatch munged; do
	command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || missing=yes
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge ||
		{ $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge; }
fi

# munge: a key, its run folder, the daemon (as the munge user).
if [ ! -s /etc/munge/munge.key ]; then
	$SUDO mungekey --create --keyfile=/etc/munge/munge.key
	$SUDO chown munge:munge /etc/munge/munge.key
	$SUDO chmod 0400 /etc/munge/munge.key
fi
$SUDO mkdir -p /run/munge
$SUDO chown munge:munge /run/munge
if ! pid_alive /run/munge/munged.pid; then
	$SUDO runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
fi

# slurm.conf for this host: one node, one partition, root as SlurmUser.
host=$(hostname -s)
node=$(/usr/sbin/slurmd -C | sed -n 's/^\(NodeName=.*\)$/\1/p')
tmp=$(mktemp)
cat >"$tmp" <<CONF
# Written by scripts/slurm-local.sh: a single-node, CPU-only test cluster.
ClusterName=tive-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
MaxArraySize=10001
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
$node State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
restart=
if ! cmp -s "$tmp" "$CONF" 2>/dev/null; then
	$SUDO mkdir -p /etc/slurm
	$SUDO cp "$tmp" "$CONF"
	restart=yes
fi
rm -f "$tmp"
$SUDO mkdir -p /var/spool/slurmd /var/spool/slurmctld "$LOGS"

if [ -n "$restart" ]; then
	for f in /run/slurmd.pid /run/slurmctld.pid; do
		if pid_alive "$f"; then
			$SUDO kill "$(cat "$f")"
			sleep 1
		fi
	done
fi
if ! pid_alive /run/slurmctld.pid; then
	$SUDO /usr/sbin/slurmctld
fi
if ! pid_alive /run/slurmd.pid; then
	$SUDO /usr/sbin/slurmd
fi

# Wait for the node; a node left down by an earlier run is resumed.
i=0
while :; do
	state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
	case "$state" in
	idle* | mixed* | allocated*) break ;;
	down* | drain*) $SUDO scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
	esac
	i=$((i + 1))
	if [ "$i" -gt 60 ]; then
		echo "slurm-local: node $host is not up after 60 s (state '${state:-none}'); see $LOGS/slurmctld.log and $LOGS/slurmd.log" >&2
		exit 1
	fi
	sleep 1
done

cat <<USAGE
slurm-local: cluster tive-local is up: node $host ($state), partition local.
  sbatch --wait --wrap 'hostname'                      run a job, wait for it
  sbatch --array=0-3 --output=log-%A_%a.txt --wrap 'echo \$SLURM_ARRAY_TASK_ID'
  squeue; scontrol show job JOBID                      state (kept 1 h after the end)
  sbatch --array=2 ...                                 rerun one array task (scontrol requeue
                                                       also works, but holds it ~2 min: BeginTime)
  tail $LOGS/jobcomp.log
                                                       finished jobs with exit codes
  scripts/slurm-local.sh stop                          stop the daemons
USAGE
