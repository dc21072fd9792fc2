#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG PROCESSES_PER_NODE [train.py options]
# One machine: PROCESSES_PER_NODE processes (one per GPU). Several machines
# (nodes): run it on each with the same NNODES, MASTER_ADDR (the address of
# node 0, reachable from the others) and PORT (default 29500), and
# NODE_RANK 0 ... NNODES-1; e.g. on the second of two nodes:
#     NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 tools/dist_train.sh CONFIG 8
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
export PYTHONPATH="$(dirname "$0")/..:${PYTHONPATH:-}"
# threads per process set deliberately (torchrun would default to 1 and say so)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(( $(nproc) / NPROC > 0 ? $(nproc) / NPROC : 1 ))}
export MKL_NUM_THREADS=${MKL_NUM_THREADS:-$OMP_NUM_THREADS}
torchrun --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" "$(dirname "$0")/train.py" "$CONFIG" \
    --launcher pytorch "$@"
