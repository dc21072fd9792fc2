#!/usr/bin/env bash
# The main job on the bundled data: train the U-Net baseline on the synthetic
# IR small-target set (generated on first use), then test it and print the
# metric table: 4 min 22 s wall (8.1 min CPU) on 2 idle AMD EPYC cores
# (2026-12-01), about 50 lines of output.
# The first run trains into work_dirs/demo/; a rerun keeps it and trains into
# work_dirs/demo/run_<timestamp>/. CHECKPOINT is the one this run trained
# (printed at the end), whichever folder it is in. METRICS_OUT=FILE also
# writes the test metrics there (replacing FILE): what docs/claims.yml reads.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=configs/unet/unet_1xb8-800i_synthetic-128x128.py
WORK_DIR=${WORK_DIR:-work_dirs/demo}
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
# the newest complete checkpoint of WORK_DIR and its run_* folders: this
# run's last one (one training at a time holds WORK_DIR)
CHECKPOINT=$(python -c 'import sys
from serankdet.engine import find_resume_checkpoint
print(find_resume_checkpoint(sys.argv[1]))' "$WORK_DIR")
python tools/test.py "$CONFIG" "$CHECKPOINT" \
    --work-dir "$WORK_DIR" --show-dir "$WORK_DIR/panels" \
    ${METRICS_OUT:+--out "$METRICS_OUT" --force}
echo "trained checkpoint: $CHECKPOINT"
