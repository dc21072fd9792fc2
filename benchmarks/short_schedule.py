"""The same short CPU training for every model on SIRST: a like-for-like
table of the model zoo.

Paper numbers come from hundreds of epochs on GPUs, each with its own
protocol; this trains every model of the toolbox the same short way on one
machine, so that the rows compare like with like:

* data: SIRST (NUAA-SIRST, idx_427: 341 training / 86 test frames);
* each model's own recipe for loss (and deep supervision), optimizer, base
  learning rate, weight decay, augmentation and crop: its SIRST config, or
  for MSHNet and SAM-SPL, which report no SIRST numbers, their NUDT-SIRST
  config on SIRST (SAM-SPL with SIRST's gray statistics, as its recipe
  normalises with the data set's; MSHNet normalises with ImageNet's);
* one common budget: ``--epochs`` epochs (default 4: 85 iterations each)
  at batch 4 (the last, single-frame batch dropped), the learning rate held at the recipe's base value (the paper
  schedules span 300 to 1500 epochs: their warm-ups and decays would fill
  or distort a short run), seed 0; MSHNet keeps its 5 warm-up epochs
  (during which only its main output trains), as its recipe does;
* then the last checkpoint scores the 86 test frames at native size with
  the toolbox metric (threshold 0.5): IoU, nIoU, Pd, Fa.

Settings that differ from the paper model, named in the table: SeRankDet
runs at width 8 (``serankdet-w8``; the full model's 512 crops take ~50 s a
step here), SAM-SPL on a randomly initialised frozen trunk (the SAM2.1
weights are not bundled; ``--sam2-checkpoint`` uses them).

Each model's run writes ``benchmarks/results/short_schedule/<E>ep/<model>
.json`` as soon as it ends (runs already there are skipped, so an
interrupted sweep continues; ``--force`` runs them again and replaces
their records; results are kept per budget). A run stopped
mid-way resumes from its last epoch checkpoint: the newest work dir of
the model whose config is the one this call would write, holding a
checkpoint but no scores, is continued (mmengine's resume; the data order
per epoch comes from the seed, so the schedule is the same; its train
time adds the part before the stop, up to that checkpoint). The table is
printed and collected into ``benchmarks/results/short_schedule/<E>ep.json``. ``--limit-train N`` /
``--limit-test N`` (smoke runs: the first N frames) write under
``work_dirs/short_schedule_smoke`` only.

Usage::

    python benchmarks/short_schedule.py --models acm alcnet ...
    python benchmarks/short_schedule.py --summary
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Optional

from mmengine.config import Config

from serankdet.engine.resume import ResumeError, find_resume_checkpoint

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULTS_ROOT = osp.join(REPO_ROOT, 'benchmarks', 'results', 'short_schedule')
# SIRST's gray statistics (its dataset config's), as the BasicIRSTD-family
# recipes use them
SIRST_NORM = Config.fromfile(osp.join(
    REPO_ROOT, 'configs', '_base_', 'datasets', 'sirst.py')).img_norm_cfg
SIRST_MEAN, SIRST_STD = SIRST_NORM.mean, SIRST_NORM.std

#: model -> (config, setting, extra config lines)
MODELS = {
    'acm': ('configs/acm/acm_1xb16-400e_sirst-256x256.py', 'paper model', ''),
    'alcnet': ('configs/alcnet/alcnet_1xb16-400e_sirst-256x256.py',
               'paper model', ''),
    'mshnet': ('configs/mshnet/mshnet_1xb4-400e_nudt-sirst-256x256.py',
               'paper model (NUDT-SIRST recipe)', ''),
    'dnanet': ('configs/dnanet/dnanet_1xb16-1500e_sirst-256x256.py',
               'paper model', ''),
    'sctransnet': ('configs/sctransnet/sctransnet_1xb16-1000e_sirst-256x256.py',
                   'paper model', ''),
    'datransnet': ('configs/datransnet/datransnet_1xb4-400e_sirst-256x256.py',
                   'paper model', ''),
    'samspl-t': (
        'configs/samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
        'SAM-SPL-T (NUDT-SIRST recipe), random frozen trunk',
        f'model = dict(\n'
        f'    data_preprocessor=dict(mean=({SIRST_MEAN} / 255, ) * 3,\n'
        f'                           std=({SIRST_STD} / 255, ) * 3),\n'
        f'    backbone=dict(trunk=dict(pretrained=None)))\n'),
    'uiunet': ('configs/uiunet/uiunet_1xb3-500e_sirst-288x288.py',
               'paper model', ''),
    'serankdet-w8': ('configs/serankdet/serankdet-w8_1xb4-400i_sirst-256x256.py',
                     'SeRankDet at width 8 (3.4 M parameters)', ''),
}
METRICS = ('IoU', 'nIoU', 'Pd', 'Fa')


def short_config_text(model: str, args) -> str:
    """The config of ``model``'s short run: the model's, with the common
    budget."""
    config, _, extra = MODELS[model]
    epochs, root = args.epochs, osp.abspath(args.data_root)
    trunk = ''
    if model == 'samspl-t' and args.sam2_checkpoint:
        extra = extra.replace('pretrained=None',
                              f'pretrained={args.sam2_checkpoint!r}')
        trunk = ' (SAM2.1 trunk)'
    train_subset = (f', indices={args.limit_train}'
                    if args.limit_train else '')
    test_subset = f', indices={args.limit_test}' if args.limit_test else ''
    text = f'''# The common short CPU schedule (benchmarks/short_schedule.py){trunk}
_base_ = [{osp.join(REPO_ROOT, config)!r}]
{extra}# drop_last: 341 = 85 x 4 + 1, and a batch of one breaks the BatchNorms
# after global pooling (ACM, ALCNet; BasicIRSTD skips such batches)
train_dataloader = dict(
    batch_size=4, drop_last=True,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(data_root={root!r}{train_subset}))
val_dataloader = dict(dataset=dict(data_root={root!r}{test_subset}))
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop',
                 max_epochs={epochs}, val_begin={epochs + 1})
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
# every epoch: a stopped run resumes from its last one
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=1,
                                     max_keep_ckpts=1, save_best=None))
log_processor = dict(by_epoch=True)
randomness = dict(seed=0)
'''
    return text


def config_path(model: str, work_dir: str) -> str:
    """Where a run's config lies: beside the work dir's own dump of the
    merged config, not over it."""
    return osp.join(work_dir, 'config',
                    'short_' + osp.basename(MODELS[model][0]))


def stopped_run(model: str, text: str, runs_dir: str) -> Optional[str]:
    """The newest work dir in ``runs_dir`` of an earlier run of ``model``
    with config ``text`` that saved a checkpoint but was not scored."""
    candidates = sorted(glob.glob(osp.join(runs_dir, f'{model}_*')),
                        key=osp.getmtime, reverse=True)
    for work_dir in candidates:
        try:
            with open(config_path(model, work_dir)) as handle:
                same_config = handle.read() == text
            # what tools/train.py --resume would continue from
            resumable = find_resume_checkpoint(work_dir)
        except (OSError, ResumeError):
            continue
        if (same_config and resumable
                and not osp.isfile(osp.join(work_dir, 'test_metrics.json'))):
            return work_dir
    return None


def run_model(model: str, args) -> dict:
    smoke = args.limit_train or args.limit_test
    runs_dir = osp.join(REPO_ROOT, 'work_dirs',
                        'short_schedule_smoke' if smoke else 'short_schedule')
    text = short_config_text(model, args)
    work_dir = stopped_run(model, text, runs_dir)
    resumed = work_dir is not None
    if not resumed:
        work_dir = osp.join(runs_dir, f'{model}_{int(time.time())}')
    config = config_path(model, work_dir)
    train_command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
                     config, '--work-dir', work_dir]
    seconds_before_stop = 0.0
    if resumed:
        # the config is written when a run starts, each checkpoint when its
        # epoch ends
        checkpoint = find_resume_checkpoint(work_dir)
        seconds_before_stop = osp.getmtime(checkpoint) - osp.getmtime(config)
        print(f'{model}: resuming the stopped run {work_dir} from '
              f'{osp.basename(checkpoint)}', flush=True)
        train_command.append('--resume')
    else:
        os.makedirs(osp.dirname(config), exist_ok=True)
        with open(config, 'w') as handle:
            handle.write(text)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    start = time.time()
    subprocess.run(train_command, check=True, env=env, cwd=REPO_ROOT)
    train_seconds = seconds_before_stop + time.time() - start
    checkpoint = find_resume_checkpoint(work_dir)
    out = osp.join(work_dir, 'test_metrics.json')
    start = time.time()
    subprocess.run([sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'),
                    config, checkpoint, '--work-dir', work_dir, '--out', out],
                   check=True, env=env, cwd=REPO_ROOT)
    test_seconds = time.time() - start
    with open(out) as handle:
        metrics = json.load(handle)['metrics']
    return dict(
        model=model, config=MODELS[model][0], setting=MODELS[model][1],
        epochs=args.epochs, batch=4, threads=args.threads,
        scores={name: metrics[f'irstd/{name}'] for name in METRICS},
        train_seconds=train_seconds, test_seconds=test_seconds,
        resumed=resumed,
        work_dir=osp.relpath(work_dir, REPO_ROOT),
        finished=time.strftime('%Y-%m-%d %H:%M:%S'),
        machine=f'{platform.machine()}, {os.cpu_count()} cores')


def print_table(rows) -> None:
    print(f'{"model":<13} {"IoU %":>6} {"nIoU %":>7} {"Pd %":>6} '
          f'{"Fa 1e-6":>9} {"train min":>9}  setting')
    for row in rows:
        scores = row['scores']
        print(f'{row["model"]:<13} {100 * scores["IoU"]:>6.2f} '
              f'{100 * scores["nIoU"]:>7.2f} {100 * scores["Pd"]:>6.2f} '
              f'{scores["Fa"]:>9.1f} {row["train_seconds"] / 60:>9.1f}  '
              f'{row["setting"]}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=list(MODELS),
                        choices=list(MODELS))
    parser.add_argument('--epochs', type=int, default=4)
    parser.add_argument('--data-root',
                        default=osp.join(REPO_ROOT, '..', 'shared',
                                         'datasets', 'SIRST'))
    parser.add_argument('--sam2-checkpoint', default=None)
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--limit-train', type=int, default=None)
    parser.add_argument('--limit-test', type=int, default=None)
    parser.add_argument('--summary', action='store_true',
                        help='only collect and print the recorded runs')
    parser.add_argument('--force', action='store_true',
                        help='run the models even where recorded (the new '
                        'run replaces the record; what docs/claims.yml '
                        'reruns)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    smoke = args.limit_train or args.limit_test
    results = osp.join(RESULTS_ROOT, f'{args.epochs}ep')
    if not args.summary:
        if not osp.isdir(osp.join(args.data_root, 'trainval')):
            raise SystemExit(f'error: no SIRST at {args.data_root} (expected '
                             'trainval/ and test/; give --data-root)')
        for model in args.models:
            path = osp.join(results, f'{model}.json')
            if osp.isfile(path) and not (smoke or args.force):
                print(f'{model}: recorded in {path}, skipped', flush=True)
                continue
            row = run_model(model, args)
            print_table([row])
            if not smoke:
                os.makedirs(results, exist_ok=True)
                with open(path + '.tmp', 'w') as handle:
                    json.dump(row, handle, indent=1)
                os.replace(path + '.tmp', path)
    rows = []
    for model in MODELS:
        if osp.isfile(osp.join(results, f'{model}.json')):
            with open(osp.join(results, f'{model}.json')) as handle:
                rows.append(json.load(handle))
    if rows:
        print_table(rows)
        with open(results + '.json', 'w') as handle:
            json.dump(dict(rows=rows), handle, indent=1)


if __name__ == '__main__':
    main()
