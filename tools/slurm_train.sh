#!/usr/bin/env bash
# Usage: [GPUS=4] [GPUS_PER_NODE=4] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#     tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options]
# (tools/slurm_test.sh runs tools/test.py through this script: SLURM_TOOL)
# srun starts GPUS tasks, GPUS_PER_NODE per node, one GPU each; every task
# runs tools/train.py --launcher slurm, which takes its rank from
# SLURM_PROCID, the world size from SLURM_NTASKS, its GPU from SLURM_LOCALID
# and the master from the first node of SLURM_NODELIST (port MASTER_PORT,
# default 29500). SRUN_ARGS: more srun options, e.g. "--quotatype=auto".
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
shift 2
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
export PYTHONPATH="$(dirname "$0")/..:${PYTHONPATH:-}"
# threads per task: the task's CPUs (srun passes the environment on)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$CPUS_PER_TASK}
export MKL_NUM_THREADS=${MKL_NUM_THREADS:-$OMP_NUM_THREADS}
# SRUN_ARGS is split into words on purpose: it holds several options
# shellcheck disable=SC2086
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
    python -u "$(dirname "$0")/${SLURM_TOOL:-train.py}" "$@" --launcher slurm
