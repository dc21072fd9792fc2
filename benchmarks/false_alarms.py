"""False alarms under control, measured (issue 28, part 3): the plain SIRST
recipe against the SIRST-V2 recipes with target-free frames, per model, at
one iteration budget.

    python benchmarks/false_alarms.py [--models serankdet-w8 acm]
        [--recipes plain negatives hard-negatives] --iters N [--seed 0]
        [--threads 1] [--min-pd 0.9] [--limit-train N --limit-test N]
    python benchmarks/false_alarms.py --iters N --summary

For each model and recipe (its existing config: ``plain`` = SIRST,
``negatives`` = SIRST-V2 with its target-free frames, ``hard-negatives`` =
the same with hard-negative mining, where the model has such a config) it

1. trains ``tools/train.py`` for ``--iters`` iterations. The run's config
   (``<work dir>/config/<name>.py``) inherits the recipe's and changes only
   the budget: an iteration loop of ``--iters``, the recipe's learning-rate
   schedule compressed onto it (every ``begin``/``end``/milestone at the
   same fraction of the run: ACM's x0.1 at epochs 200 and 300 of 400 fall at
   50 % and 75 % of the iterations, SeRankDet's 425 warm-up iterations of
   10,200 at 4.2 %), no validation during training, no early stopping, a
   checkpoint every ``--checkpoint-interval`` iterations, seed ``--seed``.
   Hard-negative mining keeps its interval (425 iterations; at most half
   the budget) and writes its file in the run's work dir. Calling the same
   command again continues a stopped run from its newest checkpoint
   (``tools/train.py --resume``, as ``benchmarks/reproduce.py`` does);
2. scores the last checkpoint with ``tools/test.py`` at threshold 0.5
   (``--cfg-options model.decode_head.threshold=0.5``) on the evaluation
   sets below, each a ``--out`` JSON in ``<work dir>/scores/``;
3. calibrates it with ``tools/analysis_tools/calibrate.py --split val
   --min-pd 0.9`` on SIRST-V2 (the val split of the SIRST-V2 configs, which
   is SIRST-V2's test split: the release has no validation split, so the
   calibrated point is chosen on the frames it is then scored on, an
   optimistic operating point; every model is calibrated on the same
   frames, the plain ones included), which writes ``CKPT.decision.json``;
4. scores it again with the calibrated rule (``tools/test.py`` applies the
   sidecar by itself).

Evaluation sets (``tools/test.py`` on the run's config with its test data
swapped; each set is a split file of stems given as ``ann_file``):

* ``v2``: SIRST-V2's 256 test frames: Pd (over the targets: the frames with
  targets), Fa, IoU;
* ``v2-free-<W>x<H>``: its 131 target-free test frames by resolution
  (sizes with fewer than ``--min-group`` frames together as
  ``v2-free-other``): ``fa_objects_per_image`` is the false objects per
  target-free frame of the size; their frame-weighted sum the overall one;
* ``sirst``: SIRST's own 86 test frames (idx_427): IoU;
* ``sirst-unseen``: the SIRST test frames that are not in SIRST-V2's
  trainval (67 of the 86 are: a SIRST-V2 model trained on them);
* ``v2-unseen``: SIRST-V2's test frames with targets that are not in
  SIRST's trainval (88 of its 125 are: a plain model trained on them).

Goals (issue 28): at the calibrated point, Pd >= 90 % on SIRST-V2's target
frames with at most 0.1 false objects per target-free frame; SIRST IoU no
more than 1 point below the plain recipe's (same model, same point).

Results: ``benchmarks/results/false_alarms.json`` (``--out``), rewritten
after every step; ``--limit-train`` / ``--limit-test`` (smoke runs: a few
frames of each training split and evaluation set, half with targets where
it has both) run under
``work_dirs/false_alarms_smoke`` and write
``work_dirs/false_alarms_smoke/false_alarms.json`` unless ``--out`` says
otherwise.
"""
import argparse
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULTS = osp.join(REPO_ROOT, 'benchmarks', 'results', 'false_alarms.json')
SMOKE_ROOT = osp.join(REPO_ROOT, 'work_dirs', 'false_alarms_smoke')

#: model -> recipe -> config (the recipes a model has a config for)
MODELS = {
    'serankdet-w8': OrderedDict([
        ('plain', 'configs/serankdet/serankdet-w8_1xb4-10k_sirst-256x256.py'),
        ('negatives', 'configs/serankdet/'
         'serankdet-w8_1xb4-10k_sirst-v2-negatives-256x256.py'),
        ('hard-negatives', 'configs/serankdet/'
         'serankdet-w8_1xb4-10k_sirst-v2-hard-negatives-256x256.py'),
    ]),
    'acm': OrderedDict([
        ('plain', 'configs/acm/acm_1xb16-400e_sirst-256x256.py'),
        ('negatives',
         'configs/acm/acm_1xb16-400e_sirst-v2-negatives-256x256.py'),
    ]),
}
RECIPES = ('plain', 'negatives', 'hard-negatives')
POINTS = ('0.5', 'calibrated')

#: the issue's goals
GOAL_PD = 0.90
GOAL_FALSE_PER_FREE_FRAME = 0.1
GOAL_SIRST_IOU_DROP = 0.01

#: hard-negative mining: the configs' interval, capped to half the budget
MINING_INTERVAL = 425


# ---------------------------------------------------------------- frames

def split_frames(root: str, split: str) -> List[dict]:
    """``<root>/<split>/masks``: stem, (W, H) and whether it has a target,
    sorted by stem (the order of IRSTDDataset)."""
    from serankdet.datasets.image_io import imread_mask
    folder = osp.join(root, split, 'masks')
    frames = []
    for name in sorted(os.listdir(folder)):
        mask = imread_mask(osp.join(folder, name))
        frames.append(dict(stem=osp.splitext(name)[0],
                           size=(int(mask.shape[1]), int(mask.shape[0])),
                           target=bool(mask.any())))
    return sorted(frames, key=lambda frame: frame['stem'])


def size_groups(frames: Sequence[dict], min_group: int
                ) -> 'OrderedDict[str, List[str]]':
    """The target-free frames by resolution: ``'<W>x<H>'`` -> stems,
    largest groups first; sizes with fewer than ``min_group`` frames
    together as ``'other'`` (last)."""
    by_size: Dict[Tuple[int, int], List[str]] = {}
    for frame in frames:
        if not frame['target']:
            by_size.setdefault(tuple(frame['size']), []).append(frame['stem'])
    groups, other = OrderedDict(), []
    for size, stems in sorted(by_size.items(),
                              key=lambda item: (-len(item[1]), item[0])):
        if len(stems) >= min_group:
            groups[f'{size[0]}x{size[1]}'] = stems
        else:
            other.extend(stems)
    if other:
        groups['other'] = sorted(other)
    return groups


def evaluation_sets(v2_root: str, sirst_root: str, min_group: int,
                    limit: Optional[int] = None) -> 'OrderedDict[str, dict]':
    """name -> dict(root, stems or None for the whole test split); with
    ``limit`` (smoke runs) each set is cut to ``limit`` frames, half with
    targets where it has both."""
    v2_test = split_frames(v2_root, 'test')
    v2_trainval = {f['stem'] for f in split_frames(v2_root, 'trainval')}
    sirst_test = split_frames(sirst_root, 'test')
    sirst_trainval = {f['stem'] for f in split_frames(sirst_root,
                                                      'trainval')}
    sets = OrderedDict(v2=dict(root=v2_root, stems=None))
    for size, stems in size_groups(v2_test, min_group).items():
        sets[f'v2-free-{size}'] = dict(root=v2_root, stems=stems)
    sets['sirst'] = dict(root=sirst_root, stems=None)
    sets['sirst-unseen'] = dict(root=sirst_root, stems=[
        f['stem'] for f in sirst_test if f['stem'] not in v2_trainval])
    sets['v2-unseen'] = dict(root=v2_root, stems=[
        f['stem'] for f in v2_test
        if f['target'] and f['stem'] not in sirst_trainval])
    if limit:
        frames = {f['stem']: f for f in v2_test + sirst_test}
        for name, eval_set in sets.items():
            stems = eval_set['stems']
            if stems is None:
                stems = [f['stem'] for f in (
                    sirst_test if eval_set['root'] == sirst_root
                    else v2_test)]
            subset = [frames[stem] for stem in stems]
            eval_set['stems'] = [subset[i]['stem'] for i in
                                 balanced_indices(subset, limit)]
    return sets


def balanced_indices(frames: Sequence[dict], count: int) -> List[int]:
    """``count`` positions of ``frames`` (a smoke run's subset): half with
    targets, half without where the split has both."""
    with_target = [i for i, f in enumerate(frames) if f['target']]
    free = [i for i, f in enumerate(frames) if not f['target']]
    if not with_target or not free:
        return list(range(min(count, len(frames))))
    half = min(max(count - count // 2, 1), len(with_target))
    return sorted(with_target[:half] + free[:max(count - half, 0)])


# ---------------------------------------------------------------- configs

def compress_scheduler(schedulers: Sequence[dict], length: int, unit: str,
                       iters: int) -> List[dict]:
    """The recipe's schedulers with every begin/end/milestone at the same
    fraction of ``iters`` as of the recipe's ``length`` (epochs or
    iterations, ``unit``), counted in iterations."""
    def scaled(value):
        # a stage of the recipe keeps at least one iteration
        result = int(round(min(value, length) / length * iters))
        return max(result, 1) if value > 0 else 0

    result = []
    for scheduler in schedulers:
        scheduler = dict(scheduler)
        by_epoch = scheduler.get('by_epoch', True)
        if (unit == 'epochs') != bool(by_epoch):
            raise ValueError(f'scheduler {scheduler} counts in '
                             f'{"epochs" if by_epoch else "iterations"}, '
                             f'the recipe in {unit}')
        for key in ('begin', 'end'):
            if key in scheduler:
                scheduler[key] = scaled(scheduler[key])
        if 'milestones' in scheduler:
            scheduler['milestones'] = [scaled(m)
                                       for m in scheduler['milestones']]
        scheduler.pop('convert_to_iter_based', None)
        scheduler['by_epoch'] = False
        result.append(scheduler)
    return result


def recipe_length(train_cfg: dict) -> Tuple[int, str]:
    if 'max_epochs' in train_cfg:
        return train_cfg['max_epochs'], 'epochs'
    return train_cfg['max_iters'], 'iterations'


def budget_config_text(config: str, iters: int, seed: int, work_dir: str,
                       checkpoint_interval: int,
                       train_indices: Optional[List[int]] = None) -> str:
    """The run's config: ``config`` at ``iters`` iterations."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    length, unit = recipe_length(cfg.train_cfg)
    schedulers = compress_scheduler(
        [s.to_dict() if hasattr(s, 'to_dict') else dict(s)
         for s in cfg.param_scheduler], length, unit, iters)
    hooks = []
    for hook in cfg.get('custom_hooks', []):
        hook = hook.to_dict() if hasattr(hook, 'to_dict') else dict(hook)
        if hook['type'] == 'EarlyStoppingHook':
            continue  # one budget for every run
        if hook['type'] == 'HardNegativeMiningHook':
            hook['interval'] = max(1, min(hook.get('interval',
                                                   MINING_INTERVAL),
                                          iters // 2))
        hooks.append(hook)
    dataset = {}
    pipeline = [step.to_dict() if hasattr(step, 'to_dict') else dict(step)
                for step in cfg.train_dataloader.dataset.pipeline]
    if any(step['type'] == 'HardNegativeRandomCrop' for step in pipeline):
        for step in pipeline:
            if step['type'] == 'HardNegativeRandomCrop':
                step['points_file'] = osp.join(work_dir,
                                               'hard_negatives.json')
        dataset['pipeline'] = pipeline
    if train_indices is not None:
        dataset['indices'] = train_indices
    log_interval = max(1, min(50, iters // 4))
    checkpoint_interval = max(1, min(checkpoint_interval, iters))
    return f'''# {config} at {iters} iterations (benchmarks/false_alarms.py):
# the recipe's schedule compressed onto the budget, no validation while
# training, no early stopping
_base_ = [{osp.join(REPO_ROOT, config)!r}]
train_dataloader = dict(dataset=dict({_kwargs(dataset)}))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={iters},
                 val_interval={iters}, val_begin={iters + 1})
param_scheduler = {schedulers!r}
custom_hooks = {hooks!r}
default_hooks = dict(
    logger=dict(interval={log_interval}, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval={checkpoint_interval},
                    max_keep_ckpts=1, save_best=None))
log_processor = dict(by_epoch=False)
randomness = dict(seed={seed})
'''


def _kwargs(values: dict) -> str:
    return ', '.join(f'{key}={value!r}' for key, value in values.items())


# ---------------------------------------------------------------- commands

def run_name(model: str, recipe: str, iters: int, seed: int) -> str:
    return f'{model}_{recipe}_{iters}i_seed{seed}'


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint mmengine's ``last_checkpoint`` file names, or None."""
    from mmengine.runner import find_latest_checkpoint
    if not osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return None
    return find_latest_checkpoint(work_dir) or None


def train_command(config_file: str, work_dir: str) -> List[str]:
    """tools/train.py, with --resume when the work dir holds a checkpoint
    (the run stopped: it continues exactly where it was)."""
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
               config_file, '--work-dir', work_dir]
    if last_checkpoint(work_dir):
        command.append('--resume')
    return command


def test_options(eval_set: dict, point: str,
                 ann_file: Optional[str]) -> List[str]:
    """--cfg-options of tools/test.py for one evaluation set (``ann_file``:
    its split file of stems, None for the whole test split) and point."""
    options = [f'test_dataloader.dataset.data_root={eval_set["root"]}']
    if ann_file is not None:
        options.append(f'test_dataloader.dataset.ann_file={ann_file}')
    if point == '0.5':
        # explicit: wins over the calibration sidecar
        options.append('model.decode_head.threshold=0.5')
    return options


def test_command(config_file: str, checkpoint: str, work_dir: str,
                 out: str, options: List[str]) -> List[str]:
    return [sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'),
            config_file, checkpoint, '--work-dir', work_dir, '--out', out,
            '--force', '--cfg-options', *options]


def calibrate_command(config_file: str, checkpoint: str, v2_root: str,
                      min_pd: float, ann_file: Optional[str] = None,
                      points: int = 99) -> List[str]:
    """calibrate.py on SIRST-V2's test split (the SIRST-V2 configs' val
    split), every config alike; ``ann_file``: a split file of stems (smoke
    runs)."""
    options = [f'val_dataloader.dataset.data_root={v2_root}']
    if ann_file is not None:
        options.append(f'val_dataloader.dataset.ann_file={ann_file}')
    return [sys.executable,
            osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'calibrate.py'),
            config_file, checkpoint, '--split', 'val', '--min-pd',
            f'{min_pd:g}', '--points', str(points), '--cfg-options',
            *options]


# ---------------------------------------------------------------- scoring

def point_summary(scores: Dict[str, dict]) -> dict:
    """One point's numbers from the ``metrics`` of tools/test.py's JSON per
    evaluation set (keys without the ``irstd/`` prefix)."""
    v2 = scores.get('v2')
    groups = {name[len('v2-free-'):]: metrics
              for name, metrics in scores.items()
              if name.startswith('v2-free-')}
    summary = dict(Pd=None, Fa=None, IoU_v2=None, false_per_frame_all=None,
                   false_per_free_frame=None, free_frames=0, by_size={},
                   IoU_sirst=None, IoU_sirst_unseen=None, Pd_unseen=None)
    if v2:
        summary.update(Pd=v2['Pd'], Fa=v2['Fa'], IoU_v2=v2['IoU'],
                       false_per_frame_all=v2['fa_objects_per_image'])
    if groups:
        frames = sum(m['num_images'] for m in groups.values())
        objects = sum(m['fa_objects_per_image'] * m['num_images']
                      for m in groups.values())
        summary.update(
            false_per_free_frame=objects / frames if frames else None,
            free_frames=frames,
            by_size={size: dict(frames=m['num_images'],
                                false_per_frame=m['fa_objects_per_image'])
                     for size, m in groups.items()})
    for key, name, metric in (('IoU_sirst', 'sirst', 'IoU'),
                              ('IoU_sirst_unseen', 'sirst-unseen', 'IoU'),
                              ('Pd_unseen', 'v2-unseen', 'Pd')):
        if name in scores:
            summary[key] = scores[name][metric]
    return summary


def goals(summary: dict, plain: Optional[dict]) -> Dict[str, dict]:
    """The issue's goals for one point: each ``met`` (None when a number is
    missing) and ``margin`` (> 0: met by that much; < 0: missed by it), Pd
    and IoU as fractions, false objects per target-free frame as they are.
    ``plain``: the same model's plain-recipe summary at the same point
    (None for the plain recipe itself: no IoU goal)."""
    def goal(value, limit, higher_is_better):
        if value is None or limit is None:
            return dict(value=value, limit=limit, met=None, margin=None)
        margin = value - limit if higher_is_better else limit - value
        return dict(value=value, limit=limit, met=margin >= -1e-12,
                    margin=margin)

    result = dict(
        Pd=goal(summary.get('Pd'), GOAL_PD, True),
        false_per_free_frame=goal(summary.get('false_per_free_frame'),
                                  GOAL_FALSE_PER_FREE_FRAME, False))
    if plain is not None:
        reference = plain.get('IoU_sirst')
        result['IoU_sirst'] = goal(
            summary.get('IoU_sirst'),
            None if reference is None else reference - GOAL_SIRST_IOU_DROP,
            True)
    return result


def describe(goal: dict, percent: bool) -> str:
    """'met (+2.1)' / 'MISSED (-0.3)' / 'n/a'."""
    if goal['met'] is None:
        return 'n/a'
    margin = goal['margin'] * (100 if percent else 1)
    text = f'{margin:+.1f}' if percent else f'{margin:+.3f}'
    return ('met ' if goal['met'] else 'MISSED ') + f'({text})'


def _fmt(value, percent=False, digits=2):
    if value is None:
        return '-'
    return f'{value * 100:.{digits}f}' if percent else f'{value:.{digits}f}'


def table_rows(runs: Dict[str, dict]) -> List[dict]:
    """One row per (run, point) with its goals: the plain recipe of the
    same model and point is the IoU reference."""
    rows = []
    for key, run in runs.items():
        plain = runs.get(f'{run["model"]}/plain')
        for point in POINTS:
            summary = run.get('points', {}).get(point)
            error = (run.get('calibration') or {}).get('error')
            if summary is None and point == 'calibrated' and error:
                # no operating point: the goals are missed
                rows.append(dict(model=run['model'], recipe=run['recipe'],
                                 point=point, threshold=None, summary=None,
                                 goals=None, error=error))
                continue
            if summary is None:
                continue
            reference = None
            if run['recipe'] != 'plain':
                reference = (plain or {}).get('points', {}).get(point, {})
            rows.append(dict(model=run['model'], recipe=run['recipe'],
                             point=point, threshold=run.get(
                                 'thresholds', {}).get(point),
                             summary=summary,
                             goals=goals(summary, reference)))
    return rows


def format_table(rows: List[dict]) -> str:
    header = (f'{"model":<13} {"recipe":<14} {"point":<10} {"thr":>5} '
              f'{"Pd %":>6} {"FA/free":>8} {"Fa 1e-6":>8} {"IoU V2":>6} '
              f'{"IoU SIRST":>9} {"unseen":>6}  goals: Pd>=90 | '
              f'FA/free<=0.1 | SIRST IoU>=plain-1')
    lines = [header]
    for row in rows:
        s, g = row['summary'], row['goals']
        if s is None:
            lines.append(f'{row["model"]:<13} {row["recipe"]:<14} '
                         f'{row["point"]:<10} goals MISSED: calibration '
                         f'failed: {row["error"]}')
            continue
        iou_goal = describe(g['IoU_sirst'], True) if 'IoU_sirst' in g \
            else '(reference)'
        lines.append(
            f'{row["model"]:<13} {row["recipe"]:<14} {row["point"]:<10} '
            f'{_fmt(row["threshold"], digits=3):>5} '
            f'{_fmt(s["Pd"], True):>6} '
            f'{_fmt(s["false_per_free_frame"], digits=3):>8} '
            f'{_fmt(s["Fa"], digits=1):>8} {_fmt(s["IoU_v2"], True):>6} '
            f'{_fmt(s["IoU_sirst"], True):>9} '
            f'{_fmt(s["IoU_sirst_unseen"], True):>6}  '
            f'{describe(g["Pd"], True)} | '
            f'{describe(g["false_per_free_frame"], False)} | {iou_goal}')
        if s['by_size']:
            sizes = ', '.join(
                f'{size} {_fmt(v["false_per_frame"], digits=3)} '
                f'({v["frames"]})' for size, v in s['by_size'].items())
            lines.append(f'{"":<13} false objects per target-free frame by '
                         f'size (frames): {sizes}')
    return '\n'.join(lines)


# ---------------------------------------------------------------- the runs

def write_json(path: str, record: dict) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path + '.tmp', 'w') as handle:
        json.dump(record, handle, indent=1)
    os.replace(path + '.tmp', path)


def read_json(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def write_split_file(path: str, stems: Sequence[str]) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    text = ''.join(f'{stem}\n' for stem in stems)
    if not osp.isfile(path) or open(path).read() != text:
        with open(path, 'w') as handle:
            handle.write(text)
    return path


class Benchmark:
    """The runs of one command line; ``record`` is what the JSON holds."""

    def __init__(self, args, record: dict):
        self.args = args
        self.record = record
        self.smoke = bool(args.limit_train or args.limit_test)
        self.env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                        MKL_NUM_THREADS=str(args.threads))
        self.own = {f'{model}/{recipe}' for model, recipe in
                    planned_runs(args.models, args.recipes)}
        self.sets = evaluation_sets(args.v2_root, args.sirst_root,
                                    args.min_group, args.limit_test)

    def save(self) -> None:
        """Rewrite the JSON: the runs of this command replace theirs, those
        of another command writing to the same file at the same time (one
        per model, say) are kept."""
        current = read_json(self.args.out) or {}
        runs = current.get('runs', {})
        runs.update({key: run for key, run in self.record['runs'].items()
                     if key in self.own})
        self.record['runs'] = runs
        self.record['updated'] = time.strftime('%Y-%m-%d %H:%M:%S')
        self.record['rows'] = table_rows(runs)
        write_json(self.args.out, self.record)

    def call(self, command: List[str], log: str) -> int:
        """Run ``command`` (its output also to ``log``); its exit status."""
        print('$ ' + ' '.join(osp.relpath(c, REPO_ROOT) if osp.isabs(c)
                              and c.startswith(REPO_ROOT) else c
                              for c in command), flush=True)
        os.makedirs(osp.dirname(log), exist_ok=True)
        with open(log, 'a') as handle:
            process = subprocess.Popen(command, env=self.env, cwd=REPO_ROOT,
                                       stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            for line in process.stdout:
                handle.write(line)
                if self.args.verbose:
                    sys.stdout.write(line)
            return process.wait()

    def train_indices(self, config: str) -> Optional[List[int]]:
        if not self.args.limit_train:
            return None
        root = (self.args.v2_root if 'sirst-v2' in config else
                self.args.sirst_root)
        return balanced_indices(split_frames(root, 'trainval'),
                                self.args.limit_train)

    def run(self, model: str, recipe: str) -> None:
        args = self.args
        config = MODELS[model][recipe]
        name = run_name(model, recipe, args.iters, args.seed)
        work_dir = osp.join(args.work_root, name)
        run = self.record['runs'].setdefault(f'{model}/{recipe}', dict(
            model=model, recipe=recipe, config=config))
        run['work_dir'] = osp.relpath(work_dir, REPO_ROOT)
        config_file = osp.join(work_dir, 'config', f'{name}.py')
        text = budget_config_text(config, args.iters, args.seed, work_dir,
                                  args.checkpoint_interval,
                                  self.train_indices(config))
        if osp.isfile(config_file):
            with open(config_file) as handle:
                if handle.read() != text:
                    raise SystemExit(
                        f'{config_file} differs from what this command '
                        'writes (another budget, recipe or code version): '
                        'remove the work dir to start over')
        else:
            os.makedirs(osp.dirname(config_file), exist_ok=True)
            with open(config_file, 'w') as handle:
                handle.write(text)
        run['run_config'] = osp.relpath(config_file, REPO_ROOT)
        finished = osp.join(work_dir, 'training_finished')
        stages = run.setdefault('train_stages', [])
        for stage in stages:  # a stage that was stopped: up to its log's end
            if stage.get('status') is None and osp.isfile(
                    osp.join(work_dir, 'train.out')):
                stage.update(status='stopped', wall_seconds=round(
                    osp.getmtime(osp.join(work_dir, 'train.out'))
                    - stage['started'], 1))
        if not osp.isfile(finished):
            run['status'] = 'training'
            command = train_command(config_file, work_dir)
            stage = dict(resumed='--resume' in command, started=time.time(),
                         wall_seconds=None, status=None)
            stages.append(stage)
            self.save()
            status = self.call(command, osp.join(work_dir, 'train.out'))
            stage.update(wall_seconds=round(time.time() - stage['started'],
                                            1), status=status)
            if status:
                run['status'] = f'training failed (exit {status}), see ' \
                    f'{run["work_dir"]}/train.out'
                self.save()
                return
            with open(finished, 'w') as handle:
                handle.write(time.strftime('%Y-%m-%d %H:%M:%S\n'))
        checkpoint = osp.join(work_dir, osp.basename(
            last_checkpoint(work_dir)))
        run['checkpoint'] = osp.relpath(checkpoint, REPO_ROOT)
        run['train_wall_seconds'] = round(sum(
            s['wall_seconds'] or 0 for s in stages), 1)
        # with start-up; of the stages this record saw
        run['seconds_per_iter'] = round(run['train_wall_seconds']
                                        / args.iters, 3)
        run['status'] = 'scoring'
        self.save()
        self.score(run, config_file, checkpoint, work_dir, '0.5')
        if self.calibrate(run, config_file, checkpoint, work_dir):
            self.score(run, config_file, checkpoint, work_dir, 'calibrated')
        run['status'] = 'done'
        self.save()

    def calibrate(self, run, config_file, checkpoint, work_dir) -> bool:
        """calibrate.py once per criterion: the sidecar (or the failure,
        ``calibration_failed.json``) of another ``--min-pd`` is redone, and
        the calibrated scores with it."""
        sidecar = checkpoint + '.decision.json'
        failed = osp.join(work_dir, 'calibration_failed.json')
        wanted = dict(min_pd=self.args.min_pd)
        for path in (sidecar, failed):
            previous = read_json(path)
            if previous is not None and previous.get('criterion') != wanted:
                os.remove(path)
                scores = osp.join(work_dir, 'scores')
                for name in os.listdir(scores):
                    if name.endswith('_calibrated.json'):
                        os.remove(osp.join(scores, name))
                for key in ('scores', 'points', 'thresholds'):
                    run.get(key, {}).pop('calibrated', None)
        if not osp.isfile(sidecar) and not osp.isfile(failed):
            log = osp.join(work_dir, 'calibrate.out')
            ann_file = None
            if self.args.limit_test:  # the smoke run's v2 frames
                ann_file = write_split_file(
                    osp.join(work_dir, 'scores', 'splits', 'v2.txt'),
                    self.sets['v2']['stems'])
            if osp.isfile(log):
                os.remove(log)
            status = self.call(calibrate_command(
                config_file, checkpoint, self.args.v2_root,
                self.args.min_pd, ann_file), log)
            if status:
                with open(log) as handle:
                    lines = [line.strip() for line in handle if line.strip()]
                errors = [line for line in lines if line.startswith('error')]
                write_json(failed, dict(criterion=wanted, error=(
                    errors or lines or [f'exit {status}'])[-1]))
        if osp.isfile(failed):
            run['calibration'] = read_json(failed)
            return False
        decision = read_json(sidecar)
        run['calibration'] = dict(
            split="SIRST-V2 test (the SIRST-V2 configs' val split)",
            criterion=decision.get('criterion'),
            decision_rule=decision.get('decision_rule'),
            point=decision.get('point'))
        return True

    def score(self, run, config_file, checkpoint, work_dir, point) -> None:
        scores = {}
        for set_name, eval_set in self.sets.items():
            out = osp.join(work_dir, 'scores', f'{set_name}_{point}.json')
            if not osp.isfile(out):
                ann_file = None
                if eval_set['stems'] is not None:
                    ann_file = write_split_file(
                        osp.join(work_dir, 'scores', 'splits',
                                 f'{set_name}.txt'), eval_set['stems'])
                status = self.call(test_command(
                    config_file, checkpoint,
                    osp.join(work_dir, 'scores', f'test_{set_name}_{point}'),
                    out, test_options(eval_set, point, ann_file)),
                    osp.join(work_dir, 'scores', f'{set_name}_{point}.out'))
                if status:
                    run.setdefault('errors', []).append(
                        f'tools/test.py on {set_name} at {point}: exit '
                        f'{status}')
                    continue
            result = read_json(out)
            scores[set_name] = {key.split('/', 1)[-1]: value for key, value
                                in result['metrics'].items()
                                if not key.endswith('curves')}
            run.setdefault('thresholds', {})[point] = \
                result['decision_rule']['threshold']
        run.setdefault('scores', {})[point] = scores
        run.setdefault('points', {})[point] = point_summary(scores)
        self.save()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=list(MODELS),
                        choices=list(MODELS))
    parser.add_argument('--recipes', nargs='+', default=list(RECIPES),
                        choices=RECIPES, help='those a model has a config '
                        'for (ACM has no hard-negatives config)')
    parser.add_argument('--iters', type=int, required=True,
                        help='training iterations, the same for every run')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1,
                        help='OMP_NUM_THREADS of each run')
    parser.add_argument('--checkpoint-interval', type=int, default=200,
                        help='iterations between checkpoints (where a '
                        'stopped run resumes)')
    parser.add_argument('--min-pd', type=float, default=GOAL_PD,
                        help='calibrate.py --min-pd (default 0.9)')
    parser.add_argument('--min-group', type=int, default=5,
                        help='target-free frames a resolution needs for '
                        'its own group')
    parser.add_argument('--v2-root',
                        default=osp.join(REPO_ROOT, 'datasets', 'SIRST-V2'))
    parser.add_argument('--sirst-root',
                        default=osp.join(REPO_ROOT, 'datasets', 'SIRST'))
    parser.add_argument('--work-root', default=None,
                        help='default work_dirs/false_alarms '
                        '(work_dirs/false_alarms_smoke with limits)')
    parser.add_argument('--out', default=None,
                        help=f'JSON (default {osp.relpath(RESULTS, REPO_ROOT)}'
                        '; with limits under work_dirs/false_alarms_smoke)')
    parser.add_argument('--limit-train', type=int, default=None,
                        help='smoke: train on N frames')
    parser.add_argument('--limit-test', type=int, default=None,
                        help='smoke: the first N frames of each set')
    parser.add_argument('--summary', action='store_true',
                        help='only print the recorded table')
    parser.add_argument('--verbose', action='store_true',
                        help='echo the tools\' output')
    args = parser.parse_args(argv)
    smoke = bool(args.limit_train or args.limit_test)
    if args.iters < 1:
        parser.error('--iters must be >= 1')
    if args.work_root is None:
        args.work_root = (SMOKE_ROOT if smoke else
                          osp.join(REPO_ROOT, 'work_dirs', 'false_alarms'))
    if args.out is None:
        args.out = (osp.join(SMOKE_ROOT, 'false_alarms.json') if smoke
                    else RESULTS)
    args.work_root = osp.abspath(args.work_root)
    args.v2_root = osp.abspath(args.v2_root)
    args.sirst_root = osp.abspath(args.sirst_root)
    return args


def planned_runs(models: Sequence[str],
                 recipes: Sequence[str]) -> List[Tuple[str, str]]:
    """(model, recipe) pairs to run: plain first (the IoU reference)."""
    return [(model, recipe) for model in models
            for recipe in RECIPES if recipe in recipes
            and recipe in MODELS[model]]


def main(argv=None) -> None:
    args = parse_args(argv)
    record = read_json(args.out) or {}
    for key in ('iters', 'seed'):
        if record.get(key) not in (None, getattr(args, key)):
            raise SystemExit(
                f'{args.out} holds the benchmark of {key} {record[key]}; '
                f'give another --out for {key} {getattr(args, key)}')
    record.update(
        iters=args.iters, seed=args.seed,
        command='python benchmarks/false_alarms.py ' + ' '.join(
            sys.argv[1:] if argv is None else argv),
        machine=f'{platform.machine()}, {os.cpu_count()} cores, '
        f'{args.threads} thread(s) per run',
        goals=dict(Pd=GOAL_PD,
                   false_per_free_frame=GOAL_FALSE_PER_FREE_FRAME,
                   sirst_iou_drop=GOAL_SIRST_IOU_DROP,
                   calibration=f'calibrate.py --split val --min-pd '
                   f'{args.min_pd:g} on SIRST-V2 test (no val split: '
                   'optimistic)'))
    record.setdefault('runs', {})
    if args.summary:
        print(format_table(table_rows(record['runs'])))
        return
    for root in (args.v2_root, args.sirst_root):
        if not osp.isdir(osp.join(root, 'test', 'masks')):
            raise SystemExit(f'error: no dataset at {root} (expected '
                             'trainval/ and test/; datasets/README.md)')
    benchmark = Benchmark(args, record)
    for model, recipe in planned_runs(args.models, args.recipes):
        benchmark.run(model, recipe)
        print(format_table(table_rows(record['runs'])), flush=True)
    benchmark.save()
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
