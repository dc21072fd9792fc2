"""``parity.py``'s diagnostics of a difference between the sides: ``cross``
(one checkpoint through both test paths), ``init-law`` (where training
starts) and ``drift`` (the same weights and real batches on both sides,
against the official code run again with another thread count)."""
import dataclasses
import os.path as osp
import tempfile
import time
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import Config

from . import REPO_ROOT, sides
from .comparison import (LAW_Z_LIMIT, compare_states, fingerprint_difference,
                         official_state_dict, tensor_law, window_means,
                         without_true_gradient)
from .official_data import OFFICIAL_DATA, SPLITS, split_stems
from .official_models import CONVERTER_NAMES, build_reference
from .references import load_official, seed_like_official
from .reports import print_drift, write_json_atomic
from .scoring import (REPORTED, SCORINGS, official_predictions,
                      our_predictions, probe_scores, score)
from .settings import PARITY_SPECS, STEP_SPECS, reference_name
from .sides import batch_data, network_inputs, run_official, run_ours
from .sweep import setting, split_limits
from .trainings import our_config


def cross_score(args) -> None:
    """Score one of our checkpoints through both test paths: ours (our
    model, our test pipeline, ``test_step``) and the official one (the
    official network holding the same weights, the official test data and
    eval forward), frame by frame. Equal probabilities mean the test paths
    agree, so a difference between the sides comes from training."""

    from serankdet.utils.checkpoint import load_checkpoint_file
    spec = PARITY_SPECS[args.model]
    limits = split_limits(args)
    data_root = args.data_root[args.model]
    root = args.reference_root[args.model]
    checkpoint = load_checkpoint_file(args.checkpoint, map_location='cpu')
    ours = checkpoint.get('state_dict', checkpoint)
    reference = build_reference(reference_name(args.model, spec), root,
                                spec.size, **spec.official_settings)
    reference.model.load_state_dict(
        official_state_dict(reference_name(args.model, spec),
                            reference.model, ours))
    data = OFFICIAL_DATA[spec.official_data]
    stems = {split: split_stems(data_root, split, limits[split])
             for split in SPLITS}
    largest = 0.0

    def checked(official, ours):
        """Our predictions, each compared with the official one of the
        same frame (the largest probability difference is kept)."""
        nonlocal largest
        for (official_p, official_mask), (p, mask) in zip(official, ours,
                                                          strict=True):
            if p.shape != official_p.shape or not torch.equal(
                    mask.cpu(), official_mask.cpu()):
                raise SystemExit('the two test paths give the frames in a '
                                 'different order or size')
            largest = max(largest, float(
                (p.cpu().double() - official_p.double()).abs().max()))
            yield p, mask

    with tempfile.TemporaryDirectory() as tmp:
        _, test_set = data.datasets(load_official(data.module, root), spec,
                                    data_root, stems, tmp)
        official = list(official_predictions(args.model, spec, reference,
                                             data, test_set))
        scores = {
            'official_test': score(official),
            'our_test': score(checked(official, our_predictions(
                our_config(spec, tmp), args.checkpoint, data_root,
                limits['test']))),
        }
    result = dict(checkpoint=osp.relpath(osp.abspath(args.checkpoint),
                                         REPO_ROOT),
                  model=args.model, scores=scores,
                  max_probability_difference=largest)
    if any(limits.values()):
        result['limits'] = limits
    if args.out:
        write_json_atomic(args.out, result)
    for path, by_scoring in scores.items():
        for scoring in SCORINGS:
            values = ' '.join(f'{k} {by_scoring[scoring][k]:.4f}'
                              for k in REPORTED)
            print(f'{path:14} {scoring:14} {values}')
    print(f'largest probability difference between the paths: {largest:.3g}')


def init_law(args) -> None:
    """Compare the initialisation law of the official network and ours, as
    each side's code draws it from the same seed: per official tensor that
    the converter maps, mean and std on both sides (single-element tensors
    are listed, one draw says nothing about a law)."""

    from serankdet.apis import register_all_modules
    from serankdet.models.converters.base import get_converter
    from serankdet.registry import MODELS
    register_all_modules()
    report = dict(seed=args.seed, z_limit=LAW_Z_LIMIT, models={})
    for model_name in args.models:
        spec = PARITY_SPECS[model_name]
        reference = reference_name(model_name, spec)
        converter = get_converter(CONVERTER_NAMES[reference])
        seed_like_official(args.seed)
        official = build_reference(
            reference, args.reference_root[model_name], spec.size,
            seed=args.seed, **spec.official_settings).model.state_dict()
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Config.fromfile(our_config(spec, tmp))
        torch.manual_seed(args.seed)
        model = MODELS.build(cfg.model)
        model.init_weights()
        ours = model.state_dict()
        rows, singles, reached = {}, {}, set()
        for key, value in official.items():
            our_key = converter.map_key(key)
            if our_key is None or key.endswith('num_batches_tracked'):
                continue
            reached.add(our_key)
            if value.numel() == 1:
                singles[key] = [value.item(), ours[our_key].item()]
            else:
                rows[key] = tensor_law(value, ours[our_key])
        drawn = sum(r['official_std'] > 0 or r['ours_std'] > 0
                    for r in rows.values())
        worst = {stat: max(rows, key=lambda k: rows[k][stat])
                 for stat in ('z_mean', 'z_std')}
        result = dict(
            tensors=len(rows), random=drawn,
            constant=len(rows) - drawn,
            worst={stat: dict(key=key, **rows[key])
                   for stat, key in worst.items()},
            differ={k: r for k, r in rows.items()
                    if max(r['z_mean'], r['z_std']) > LAW_Z_LIMIT},
            single_values=singles,
            ours_not_mapped=sorted(
                k for k in ours if k not in reached
                and not k.endswith('num_batches_tracked')))
        report['models'][model_name] = result
        print(f'{model_name} (seed {args.seed}): {len(rows)} tensors, '
              f'{drawn} random, {result["constant"]} constant; '
              f'{len(result["differ"])} differ by more than '
              f'{LAW_Z_LIMIT:g} standard errors')
        for stat, key in worst.items():
            print(f'  largest {stat}: {rows[key][stat]:.2f} ({key}, '
                  f'n={rows[key]["numel"]})')
        for key, row in result['differ'].items():
            print(f'  DIFFERS {key}: mean {row["official_mean"]:.4g} / '
                  f'{row["ours_mean"]:.4g}, std {row["official_std"]:.4g} / '
                  f'{row["ours_std"]:.4g}')
        print(f'  single values (official / ours): {singles}')
        if result['ours_not_mapped']:
            print(f'  our tensors without an official one: '
                  f'{result["ours_not_mapped"]}')
    if args.out:
        write_json_atomic(args.out, report)
        print(f'written {args.out}')


#: steps at which both sides' weights are fingerprinted
DRIFT_CHECKPOINTS = (1, 5, 10, 25, 50, 100, 200, 400)


def drift_frames(data_root: str, split: str, count: Optional[int],
                 seed: int):
    """``count`` frames of ``split`` in a seeded order (all when None):
    uint8 (H, W) frames and 0/1 masks, read as our datasets read them."""
    from serankdet.datasets.image_io import imread_gray, imread_mask
    stems = split_stems(data_root, split)
    order = np.random.default_rng(seed).permutation(len(stems))
    frames, masks = [], []
    for index in order[:count]:
        stem = stems[index]
        frame = imread_gray(osp.join(data_root, split, 'images', stem + '.png'))
        if frame.dtype != np.uint8:
            raise SystemExit(f'{stem}: drift needs 8-bit frames')
        frames.append(torch.from_numpy(frame))
        masks.append(torch.from_numpy(imread_mask(
            osp.join(data_root, split, 'masks', stem + '.png'))))
    return frames, masks


def drift(args) -> None:
    """Train the official network and ours from the same initial weights
    (the official code's own initialisation from ``--seed``) on the same
    real, unaugmented batches for ``--steps`` steps in float32, as
    ``step_exact.py`` does on synthetic frames in float64; then run the
    official side again with another thread count, which changes only the
    rounding. Ours parting from the official run no faster than the
    official run parts from itself means the training dynamics agree;
    parting faster (a first-step loss that differs, a gap that keeps its
    sign) points at a difference in the training code."""

    from serankdet.models.converters.base import get_converter
    spec = setting(args, args.model)
    reference = reference_name(args.model, spec)
    step_spec = STEP_SPECS[reference]
    torch.set_num_threads(args.threads)
    data_root = args.data_root[args.model]
    train_count = len(split_stems(data_root, 'trainval'))
    epoch_len = min(args.steps, train_count // spec.official_batch)
    frames, masks = drift_frames(data_root, 'trainval',
                                 epoch_len * spec.official_batch, args.seed)
    probe_frames, probe_masks = drift_frames(data_root, 'test', args.probe,
                                             args.seed)
    checkpoints = sorted({s for s in DRIFT_CHECKPOINTS if s < args.steps}
                         | {args.steps})
    with tempfile.TemporaryDirectory() as tmp:
        run_spec = dataclasses.replace(
            step_spec, config=our_config(spec, tmp, args.cfg_options),
            size=spec.size,
            batch=spec.official_batch, steps=args.steps, epoch_len=epoch_len,
            schedule={**step_spec.paper_schedule, **spec.official_schedule},
            threads=args.threads)
        batches = network_inputs(run_spec, frames, masks,
                                            torch.float32)
        probe = network_inputs(
            dataclasses.replace(run_spec, batch=len(probe_frames),
                                epoch_len=1),
            probe_frames, probe_masks, torch.float32)[0][0]

        def official_run(threads: int) -> dict:
            torch.set_num_threads(threads)
            seed_like_official(args.seed)
            ref = build_reference(reference, args.reference_root[args.model],
                                  spec.size, seed=args.seed,
                                  **spec.official_settings)
            initial = {k: v.clone() for k, v in ref.model.state_dict().items()}
            start = time.time()
            run = run_official(
                ref, run_spec, initial, batches, args.steps, torch.float32,
                checkpoints, spec.official_optimizer)
            run['seconds'] = time.time() - start
            with torch.no_grad():
                out = torch.cat([ref.forward_eval(probe[i:i + 4])[:, 0]
                                 for i in range(0, len(probe), 4)])
            run['probe'] = probe_scores(
                out.sigmoid() if spec.official_logits else out, probe_masks)
            run['initial'] = initial
            torch.set_num_threads(args.threads)
            return run

        sides.PROGRESS = True
        official = official_run(args.threads)
        start = time.time()
        ours = run_ours(reference, run_spec, official['initial'],
                                   frames, masks, args.steps, torch.float32,
                                   checkpoints)
        ours['seconds'] = time.time() - start
        # our test path: data preprocessor, eval forward, logits at the
        # frame size
        model = ours['model'].eval()
        with torch.no_grad():
            ours['probe'] = probe_scores(torch.cat([
                sample.seg_logits.data.sigmoid()
                for i in range(0, len(probe_frames), 4)
                for sample in model.test_step(batch_data(
                    probe_frames, probe_masks,
                    range(i, min(i + 4, len(probe_frames)))))]), probe_masks)
        again = official_run(args.noise_floor)

    map_key = get_converter(CONVERTER_NAMES[reference]).map_key
    parameters = {k: p.requires_grad for k, p in model.named_parameters()}
    no_true_gradient = without_true_gradient(
        official['first_gradients'])
    official_state = official['model'].state_dict()

    def versus(run: dict, fingerprints: Dict) -> dict:
        """One run against the official run."""
        loss_diff = [b - a for a, b in zip(official['losses'], run['losses'])]
        p_official, p_run = (official['probe']['probability'],
                             run['probe']['probability'])
        both = ((p_official > 0.5) & (p_run > 0.5)).sum().item()
        either = ((p_official > 0.5) | (p_run > 0.5)).sum().item()
        return dict(
            loss_diff_window_means=window_means(loss_diff),
            loss_abs_diff_window_means=window_means(
                [abs(d) for d in loss_diff]),
            max_loss_abs_diff=max(abs(d) for d in loss_diff),
            fingerprint_difference={
                str(k): fingerprint_difference(
                    run_spec, official['fingerprints'][k], fingerprints[k])
                for k in checkpoints},
            probe_max_probability_diff=(p_run - p_official).abs().max().item(),
            probe_positive_overlap=both / either if either else 1.0)

    report = dict(
        model=args.model, reference=reference, seed=args.seed,
        steps=args.steps, batch=spec.official_batch, epoch_len=epoch_len,
        dtype='float32', threads=args.threads, noise_floor_threads=args.noise_floor,
        our_cfg_options=args.cfg_options,
        probe_frames=len(probe_frames), data_root=data_root,
        sides={}, final_states={})
    for name, run in (('official', official), ('ours', ours),
                      (f'official_{args.noise_floor}_threads', again)):
        report['sides'][name] = dict(
            losses=run['losses'], lrs=run['lrs'],
            loss_window_means=window_means(run['losses']),
            seconds=run['seconds'],
            probe={k: v for k, v in run['probe'].items()
                   if k != 'probability'})
    report['ours_vs_official'] = versus(ours, ours['fingerprints'])
    report['official_vs_itself'] = versus(again, {
        k: {map_key(key): v for key, v in fp.items() if map_key(key)}
        for k, fp in again['fingerprints'].items()})
    report['final_states'] = dict(
        ours=compare_states(
            run_spec, official_state, model.state_dict(),
            official['initial'], parameters, no_true_gradient),
        official_itself=compare_states(
            run_spec, official_state, again['model'].state_dict(),
            official['initial'], parameters, no_true_gradient))
    print_drift(report)
    write_json_atomic(args.out, report)
    print(f'written {args.out}')
