#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCESSES [train.py options]
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
