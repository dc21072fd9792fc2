#!/usr/bin/env bash
# Usage: [GPUS=4] [GPUS_PER_NODE=4] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#     tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# As tools/slurm_train.sh: GPUS tasks of tools/test.py --launcher slurm, the
# test set split among them, the metrics computed over all of it.
set -euo pipefail
SLURM_TOOL=test.py exec bash "$(dirname "$0")/slurm_train.sh" "$@"
