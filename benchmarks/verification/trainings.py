"""Whole training runs on real data, each side with its own training code:
the official training loop driven with the official parts (dataset,
``DataLoader`` settings, network, loss, optimizer, scheduler,
batch-skipping rule), and ours through ``tools/train.py``; both scored by
:mod:`verification.scoring`."""
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config

from . import REPO_ROOT
from .official_data import OFFICIAL_DATA, SPLITS, split_stems
from .official_models import build_reference
from .references import load_official, seed_like_official
from .scoring import official_predictions, our_predictions, score
from .settings import ParitySpec, reference_name


def run_official(model_name: str, spec: ParitySpec, seed: int,
                 reference_root: str, data_root: str,
                 limits: Dict[str, Optional[int]]) -> dict:
    """Train and score one seed with the official training loop."""
    data = OFFICIAL_DATA[spec.official_data]
    data_module = load_official(data.module, reference_root)
    stems = {split: split_stems(data_root, split, limits[split])
             for split in SPLITS}
    with tempfile.TemporaryDirectory() as tmp:
        # every official script: seed first, then the data sets and loader,
        # then the network (the first torch draws)
        seed_like_official(seed)
        train_set, test_set = data.datasets(data_module, spec, data_root,
                                            stems, tmp)
        train_loader = torch.utils.data.DataLoader(
            train_set, batch_size=spec.official_batch, shuffle=True,
            num_workers=spec.official_workers,
            drop_last=spec.official_drop_last)
        reference = build_reference(reference_name(model_name, spec),
                                    reference_root, spec.size, seed=seed,
                                    **spec.official_settings)
        optimizer = reference.make_optimizer(reference.model.parameters(),
                                             **spec.official_optimizer)
        scheduler = reference.make_scheduler(optimizer,
                                             **spec.official_schedule)
        epoch_losses, iterations = [], 0
        start = time.time()
        for epoch in range(spec.epochs):
            scheduler.start_epoch(epoch)
            losses = []
            for batch in train_loader:
                img, mask = batch[:2]  # SAM-SPL also yields the file names
                if spec.official_skip_single and img.shape[0] == 1:
                    continue
                loss = reference.loss(reference.forward_train(img), mask)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            scheduler.end_epoch(epoch)
            iterations += len(losses)
            epoch_losses.append(float(np.mean(losses)))
            print(f'official {model_name} seed {seed}: epoch {epoch + 1} '
                  f'loss {epoch_losses[-1]:.4f}', flush=True)
        train_seconds = time.time() - start
        start = time.time()
        scores = score(official_predictions(model_name, spec, reference,
                                            data, test_set))
        test_seconds = time.time() - start
    return dict(scores=scores, epoch_losses=epoch_losses,
                train_seconds=train_seconds, test_seconds=test_seconds,
                iterations=iterations,
                seconds_per_iteration=train_seconds / max(iterations, 1),
                learning_rate_end=optimizer.param_groups[0]['lr'],
                command='official training loop (benchmarks/parity.py)')


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _training_log(work_dir: str) -> List[dict]:
    """Every training log line mmengine wrote (``vis_data/scalars.json``:
    ``time``, ``loss``, ``epoch``, ... averaged over the logging window)."""
    entries = []
    for root, _, names in os.walk(work_dir):
        if osp.basename(root) != 'vis_data' or 'scalars.json' not in names:
            continue
        with open(osp.join(root, 'scalars.json')) as f:
            for line in f:
                entry = json.loads(line)
                if 'time' in entry and 'loss' in entry:
                    entries.append(entry)
    return entries


def _epoch_losses(log: List[dict], epochs: int) -> List[float]:
    """Mean training loss of each epoch from a log line every iteration,
    split by count (iteration-based logs, e.g. SAM-SPL's configs, name no
    epoch; every epoch of a run has the same number of iterations)."""
    losses = [float(entry['loss']) for entry in log]
    return [float(np.mean(chunk))
            for chunk in np.array_split(losses, epochs)]


def our_config(spec: ParitySpec, work_dir: str,
               cfg_options: Optional[Dict] = None) -> str:
    """The config our side trains: ``spec.config``, or a config in
    ``work_dir`` inheriting it with ``spec.config_changes``; then
    ``cfg_options`` (dotted keys, list items by index) merged in."""
    config = osp.join(REPO_ROOT, spec.config)
    if not spec.config_changes and not cfg_options:
        return config
    path = osp.join(work_dir, 'parity_' + osp.basename(config))
    os.makedirs(work_dir, exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'_base_ = [{config!r}]\n' + spec.config_changes)
    if cfg_options:
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(cfg_options, allow_list_keys=True)
        cfg.dump(path)
    return path


def run_ours(model_name: str, spec: ParitySpec, seed: int,
             data_root: str, work_dir: str,
             limits: Dict[str, Optional[int]], trained: bool = False) -> dict:
    """Train with ``tools/train.py`` and score the last checkpoint
    (``trained``: score the last checkpoint ``work_dir`` already holds)."""
    config = our_config(spec, work_dir)
    overrides = [
        f'train_cfg.max_epochs={spec.epochs}',
        # no validation during training: both sides are scored once, below
        # (mmengine also validates after the last epoch unless val_begin
        # lies beyond it)
        f'train_cfg.val_interval={spec.epochs + 1}',
        f'train_cfg.val_begin={spec.epochs + 1}',
        f'randomness.seed={seed}',
        f'train_dataloader.batch_size={spec.official_batch}',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        # a log line every iteration: per-epoch mean losses as the official
        # side reports them
        'default_hooks.logger.interval=1',
    ]
    if limits['trainval']:  # the first N samples, sorted by stem
        overrides.append(
            f'train_dataloader.dataset.indices={limits["trainval"]}')
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
               config, '--work-dir', work_dir, '--cfg-options', *overrides]
    if not trained:
        start = time.time()
        subprocess.run(command, check=True, cwd=REPO_ROOT)
        train_seconds = time.time() - start
    checkpoint = _last_checkpoint(work_dir)
    iterations = torch.load(checkpoint, map_location='cpu',
                            weights_only=False)['meta']['iter']
    start = time.time()
    scores = score(our_predictions(config, checkpoint, data_root,
                                   limits['test']))
    test_seconds = time.time() - start
    log = _training_log(work_dir)
    if trained:  # the iterations' logged times (no process start)
        train_seconds = float(sum(entry['time'] for entry in log))
    result = dict(
        scores=scores, train_seconds=train_seconds,
        test_seconds=test_seconds, iterations=iterations,
        # the process start, data set and model building included
        seconds_per_iteration=train_seconds / max(iterations, 1),
        checkpoint=osp.relpath(checkpoint, REPO_ROOT),
        command=' '.join(
            ['python tools/train.py', osp.relpath(config, REPO_ROOT),
             '--work-dir', osp.relpath(work_dir, REPO_ROOT), '--cfg-options',
             *overrides]))
    if log:  # training iterations only
        result['logged_seconds_per_iteration'] = float(
            np.mean([entry['time'] for entry in log]))
        result['epoch_losses'] = _epoch_losses(log, spec.epochs)
    if spec.config_changes:
        result['config_changes'] = spec.config_changes
    if trained:
        result['scored_again'] = ('train_seconds: sum of the logged '
                                  'iteration times')
    return result
