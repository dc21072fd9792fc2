"""One model of ``step_exact.py``: the official network and ours from the
same regenerated weights, N steps on the same synthetic batches, compared
step by step and after the run; the paper schedule compared epoch by epoch;
optionally the official code against itself with another thread count and
the CI data of ``benchmarks/tests/test_step_exact.py``."""
import dataclasses
import json
import os
import os.path as osp
import time
from typing import Optional

import torch

from . import CI_DATA_DIR, REPO_ROOT
from .comparison import (bce_saturation, compare_states, fingerprint,
                         fingerprint_difference, without_true_gradient)
from .official_models import build_reference
from .references import official_commit
from .reports import plain
from .settings import STEP_SPECS
from .sides import (network_inputs, official_epoch_lrs, our_epoch_lrs,
                    run_official, run_ours)
from .synthetic import (frames_digest, make_frames, regenerate_weights,
                        weight_layout)


def run_model(name: str, root: str, steps: Optional[int], size: Optional[int],
              dtype, seed: int, write_ci: bool, unfused: bool = False,
              threads: Optional[int] = None,
              noise_floor_threads: Optional[int] = None) -> dict:
    spec = STEP_SPECS[name]
    if size:
        spec = dataclasses.replace(spec, size=size)
    if steps:
        spec = dataclasses.replace(spec, steps=steps,
                                   ci_steps=min(spec.ci_steps, steps))
    if threads:
        spec = dataclasses.replace(spec, threads=threads)
    torch.set_num_threads(spec.threads)
    started = time.perf_counter()
    ref = build_reference(name, root, spec.size)
    layout = weight_layout(ref.model)
    initial = regenerate_weights(layout, seed, dtype)
    frames, masks = make_frames(spec.epoch_len * spec.batch, spec.size, seed)
    batches = network_inputs(spec, frames, masks, dtype)
    fp_steps = sorted({spec.ci_steps, spec.steps})

    t0 = time.perf_counter()
    official = run_official(ref, spec, initial, batches, spec.steps, dtype,
                            fp_steps)
    official_s = time.perf_counter() - t0
    official_state = {k: v.detach().clone()
                      for k, v in official['model'].state_dict().items()}
    paper_official = official_epoch_lrs(ref, spec.paper_schedule)
    del ref, official['model']

    t0 = time.perf_counter()
    ours = run_ours(name, spec, initial, frames, masks, spec.steps, dtype,
                    fp_steps, unfused)
    ours_s = time.perf_counter() - t0
    paper_ours = our_epoch_lrs(name, spec, spec.paper_schedule)

    rows = []
    for step in range(spec.steps):
        ref_loss, our_loss = official['losses'][step], ours['losses'][step]
        rows.append(dict(
            step=step + 1, epoch=step // spec.epoch_len,
            official_loss=ref_loss, our_loss=our_loss,
            loss_abs_diff=abs(our_loss - ref_loss),
            official_lr=official['lrs'][step], our_lr=ours['lrs'][step],
            lr_abs_diff=abs(ours['lrs'][step] - official['lrs'][step])))
    parameters = {k: p.requires_grad
                  for k, p in ours['model'].named_parameters()}
    no_true_gradient = without_true_gradient(official['first_gradients'])
    states = compare_states(spec, official_state, ours['model'].state_dict(),
                            initial, parameters, no_true_gradient)
    noise_floor = None
    if noise_floor_threads:
        # the official code against itself, with another thread count
        torch.set_num_threads(noise_floor_threads)
        t0 = time.perf_counter()
        again = run_official(build_reference(name, root, spec.size), spec,
                             initial, batches, spec.steps, dtype)
        torch.set_num_threads(spec.threads)
        noise_floor = dict(
            threads=noise_floor_threads,
            max_loss_abs_diff=max(abs(a - b) for a, b in zip(
                again['losses'], official['losses'])),
            final=compare_states(spec, official_state,
                                 again['model'].state_dict(), initial,
                                 parameters, no_true_gradient),
            wall_s=time.perf_counter() - t0)
        del again
    result = dict(
        model=name, config=spec.config, converter=spec.converter,
        official_root=osp.abspath(root),
        official_commit=official_commit(root),
        expected_official_commit=spec.official_commit,
        dtype=str(dtype).replace('torch.', ''), seed=seed, size=spec.size,
        batch=spec.batch, steps=spec.steps, epoch_len=spec.epoch_len,
        schedule=plain(spec.schedule), threads=spec.threads,
        unfused=unfused,
        official_optimizer=[official['optimizer'],
                            plain(official['optimizer_defaults'])],
        our_optimizer=[ours['optimizer'], plain(ours['optimizer_defaults'])],
        converter_notes=ours['notes'], per_step=rows,
        max_loss_abs_diff=max(r['loss_abs_diff'] for r in rows),
        max_loss_rel_diff=max(r['loss_abs_diff'] / abs(r['official_loss'])
                              for r in rows),
        max_lr_abs_diff=max(r['lr_abs_diff'] for r in rows),
        final=states, no_true_gradient=no_true_gradient,
        fingerprint_difference={
            str(k): fingerprint_difference(spec, official['fingerprints'][k],
                                           ours['fingerprints'][k])
            for k in fp_steps},
        official_noise_floor=noise_floor,
        paper_schedule=dict(
            settings=plain(spec.paper_schedule),
            epochs=len(paper_official),
            max_lr_abs_diff=max(abs(a - b) for a, b in
                                zip(paper_official, paper_ours)),
            first_lrs=paper_official[:8], last_lr=paper_official[-1]),
        wall_s=dict(official=official_s, ours=ours_s,
                    total=time.perf_counter() - started))
    if name == 'samspl-t':
        result['bce_saturation_float32'] = bce_saturation(torch.float32)
    if write_ci:
        result['ci_data'] = write_ci_data(
            name, spec, layout, seed, dtype, frames, masks, official,
            paper_official, initial)
    return result


def write_ci_data(name, spec, layout, seed, dtype, frames, masks, official,
                  paper_lrs, initial) -> str:
    """``tests/data/step_exact_<name>.json``: what the CI test needs to
    replay our side without the checkout."""
    os.makedirs(CI_DATA_DIR, exist_ok=True)
    path = osp.join(CI_DATA_DIR, f'step_exact_{name}.json')
    data = dict(
        model=name, official_commit=spec.official_commit,
        note='written by benchmarks/py --write-ci-data from a '
             'run of the official code; see benchmarks/README.md',
        torch=torch.__version__, dtype=str(dtype).replace('torch.', ''),
        seed=seed, size=spec.size, batch=spec.batch, epoch_len=spec.epoch_len,
        schedule=plain(spec.schedule),
        paper_schedule=plain(spec.paper_schedule),
        ci_steps=spec.ci_steps, steps=spec.steps,
        frames_sha256=frames_digest(frames, masks),
        initial_fingerprint=fingerprint(initial),
        layout=layout,
        official_losses=official['losses'], official_lrs=official['lrs'],
        official_fingerprints={str(k): v for k, v in
                               official['fingerprints'].items()},
        official_paper_lrs=paper_lrs)
    with open(path, 'w') as f:
        json.dump(data, f, separators=(',', ':'))
    return osp.relpath(path, REPO_ROOT)
