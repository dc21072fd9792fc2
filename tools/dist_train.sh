#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCESSES [train.py options]
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
export PYTHONPATH="$(dirname "$0")/..:${PYTHONPATH:-}"
torchrun --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" "$(dirname "$0")/train.py" "$CONFIG" \
    --launcher pytorch "$@"
