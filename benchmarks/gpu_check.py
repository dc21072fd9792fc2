"""GPU self-check: the CUDA path of the toolbox in one command (at most
about 8 minutes on one GPU), one JSON, one table.

    python benchmarks/gpu_check.py [--out work_dirs/gpu_check.json]
        [--checks golden amp_train ddp amp_test speed] [--models ...]
        [--reference-root NAME=PATH ...]

Checks (each a group of rows in the table and a key of the JSON):

- ``environment``: torch, CUDA, cuDNN and NCCL versions, the GPU, the
  cuDNN and TF32 settings.
- ``golden``: every model's float32 eval forward on the GPU with the
  weights of its golden file (``tests/data/golden``, ``../shared/golden``),
  against the official code's output, with TF32 off and then on; the
  largest difference of each, and between the two (SeRankDet and SAM-SPL
  are held to their tolerance in float64, as their golden files advise).
- ``amp_train``: three training steps of every model under ``--amp``
  (float16 autocast, mmengine's ``AmpOptimWrapper`` with dynamic loss
  scaling) on random frames: the losses are finite; the loss scale.
- ``ddp``: ``torchrun --nproc_per_node=1 tools/train.py --launcher pytorch
  --sync-bn`` with NCCL and pinned memory, 100 iterations of the
  width-reduced SeRankDet on SIRST: it finishes with finite weights.
- ``amp_test``: ``tools/test.py`` on the SIRST test set with that
  checkpoint, float32 and ``--amp``: the metrics and their differences.
- ``speed``: training and inference images/s of every model
  (``benchmarks/bench_models.py`` on the GPU), and of the official code
  where its checkout is found (``--reference-root``, default
  ``../refs/<repository>``).

Without CUDA only the environment is reported; every other check is
skipped with the reason, and the JSON says so (``status: skipped``).
"""
import argparse
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import tempfile
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import torch  # noqa: E402

from benchmarks.bench_models import MODELS as BENCH_MODELS  # noqa: E402
from benchmarks.bench_models import reference_root  # noqa: E402

CHECKS = ('golden', 'amp_train', 'ddp', 'amp_test', 'speed')
#: the official repositories of ``verification/official_models.py``, in ../refs
REFERENCE_CHECKOUTS = {'serankdet': 'SeRankDet', 'datransnet': 'DATransNet',
                       'samspl-t': 'SAM-SPL'}
DDP_CONFIG = 'configs/serankdet/serankdet-w8_1xb4-400i_sirst-256x256.py'
DDP_ITERS = 100
AMP_METRICS = ('irstd/IoU', 'irstd/nIoU', 'irstd/Pd', 'irstd/Fa')
NO_CUDA = 'no CUDA device: runs on a GPU only'


def golden_cases():
    """name -> a function giving (float32 model with the golden weights,
    eval input, expected main output, whether the expected output is a
    probability, tolerance, dtype the tolerance applies in) for every model
    with a golden file; the weights are rebuilt as the model tests rebuild
    them (:mod:`serankdet.testing.golden`)."""
    from serankdet.apis.conversion import convert_state_dict
    from serankdet.testing.golden import (SERANKDET_MODEL_CONFIG,
                                          build_model, load_golden,
                                          load_shared_golden,
                                          reference_state_dict,
                                          serankdet_reference_state_dict)
    from serankdet.testing.seeded_weights import mshnet_seeded_state_dict
    config_dir = osp.join(REPO_ROOT, 'configs')

    def model(config, name, reference):
        state, _ = convert_state_dict(name, reference)
        return build_model(config, state)

    def basicirstd(name):
        golden = load_golden(name)
        return (model(f'{config_dir}/{name}/'
                      f'{name}_1xb16-400e_nudt-sirst-256x256.py', name,
                      reference_state_dict(golden)),
                golden['input'], golden['output'], True, 1e-4, torch.float32)

    def dnanet():
        golden = load_golden('dnanet')
        return (model(f'{config_dir}/dnanet/'
                      'dnanet_1xb16-1500e_nudt-sirst-256x256.py', 'dnanet',
                      reference_state_dict(golden)),
                golden['input'], golden['output'][3], False, 1e-4,
                torch.float32)

    def mshnet():
        golden = load_golden('mshnet')
        return (model(f'{config_dir}/mshnet/'
                      'mshnet_1xb4-400e_irstd1k-256x256.py', 'mshnet',
                      mshnet_seeded_state_dict(golden['reference_shapes'])),
                golden['input'].float(), golden['eval_output_f32'], False,
                1e-4, torch.float32)

    def float32_reference(name, config, expected, index=None):
        golden = load_golden(name)
        output = golden[expected]
        return (model(config, name, reference_state_dict(
            golden, torch.float32, num_batches_tracked=5)),
                golden['input'], output if index is None else output[index],
                False, 1e-4, torch.float32)

    def datransnet():
        golden = load_shared_golden('datransnet.pt')
        return (model(f'{config_dir}/datransnet/'
                      'datransnet_1xb4-400e_nudt-sirst-256x256.py',
                      'datransnet', golden['state_dict']),
                golden['input'], golden['output_logits'], False, 1e-4,
                torch.float32)

    def serankdet():
        golden = load_shared_golden('serankdet_compact.pt')
        # top-K selection flips near-ties in float32 (see the golden
        # README; 1.4e-2 on CPU): exact in float64 only
        return (model(SERANKDET_MODEL_CONFIG, 'serankdet',
                      serankdet_reference_state_dict(golden)),
                golden['input'], golden['output_f64'][5], False, 1e-6,
                torch.float64)

    def samspl():
        golden = load_shared_golden('samspl.pt')
        # eval mode is per sample: one frame; float32 outputs move by up to
        # 1e-4 with the thread count (see the golden README): exact in
        # float64
        return (model(f'{config_dir}/_base_/models/samspl.py', 'samspl',
                      golden['state_dict']),
                golden['input'][:1], golden['output_f64'][0][:1], False,
                1e-9, torch.float64)

    return {
        'acm': lambda: basicirstd('acm'),
        'alcnet': lambda: basicirstd('alcnet'),
        'dnanet': dnanet,
        'mshnet': mshnet,
        'sctransnet': lambda: float32_reference(
            'sctransnet', f'{config_dir}/sctransnet/'
            'sctransnet_1xb16-1000e_sirst-256x256.py', 'output_f32'),
        'uiunet': lambda: float32_reference(
            'uiunet', f'{config_dir}/_base_/models/uiunet.py', 'output', 0),
        'datransnet': datransnet,
        'serankdet': serankdet,
        'samspl-t': samspl,
    }


def check_golden(name: str, device: str) -> dict:
    """The float32 eval output of model ``name`` on ``device`` against its
    golden output, with TF32 matrix products and convolutions off, then
    on (TF32 changes nothing off CUDA); for a model whose tolerance holds
    in float64 only, also the float64 output. Passed: the difference in
    the tolerance's dtype is within it."""
    model, inputs, expected, probability, atol, dtype = golden_cases()[name]()
    model = model.to(device).eval()
    expected = expected.double()
    matmul, cudnn = (torch.backends.cuda.matmul.allow_tf32,
                     torch.backends.cudnn.allow_tf32)

    def output(tf32=False, dtype=torch.float32):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        with torch.no_grad():
            logits = model.to(dtype)(inputs.to(device, dtype), mode='tensor')
        return (logits.sigmoid() if probability else logits).double().cpu()

    try:
        off, on = output(), output(tf32=True)
        exact = output(dtype=torch.float64) if dtype == torch.float64 \
            else off
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn
    record = dict(
        max_diff_fp32=(off - expected).abs().max().item(),
        max_diff_tf32=(on - expected).abs().max().item(),
        max_diff_tf32_vs_fp32=(on - off).abs().max().item(), atol=atol,
        atol_dtype=str(dtype).split('.')[-1])
    if dtype == torch.float64:
        record['max_diff_fp64'] = (exact - expected).abs().max().item()
    record['passed'] = (exact - expected).abs().max().item() <= atol
    record['status'] = 'passed' if record['passed'] else 'failed'
    return record


def check_amp_train(name: str, device: str, steps: int = 3,
                    size: int = 256) -> dict:
    """``steps`` training steps of model ``name`` as ``tools/train.py
    --amp`` sets them up (:func:`~serankdet.utils.use_mixed_precision`):
    the losses and the final loss scale."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from serankdet.registry import MODELS
    from serankdet.utils import use_mixed_precision
    cfg = Config.fromfile(osp.join(REPO_ROOT, BENCH_MODELS[name][0]))
    use_mixed_precision(cfg, training=True)
    if 'img_size' in cfg.model.get('neck', {}):  # DATransNet's constant
        cfg.model.neck.img_size = size
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device).train()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    generator = torch.Generator().manual_seed(0)

    def sample():
        data_sample = SegDataSample(metainfo=dict(
            img_max_value=255.0, ori_shape=(size, size), img_shape=(size,
                                                                    size)))
        mask = torch.zeros(1, size, size, dtype=torch.long)
        mask[0, size // 3:size // 3 + 4, size // 2:size // 2 + 4] = 1
        data_sample.gt_sem_seg = PixelData(data=mask)
        return data_sample

    losses = []
    for _ in range(steps):
        data = dict(inputs=[torch.randint(0, 256, (1, size, size),
                                          generator=generator,
                                          dtype=torch.uint8)
                            for _ in range(2)],
                    data_samples=[sample(), sample()])
        losses.append(model.train_step(data, wrapper)['loss'].item())
    scaler = getattr(wrapper, 'loss_scaler', None)
    finite = all(map(lambda x: x == x and abs(x) != float('inf'), losses))
    return dict(optim_wrapper=type(wrapper).__name__, losses=losses,
                loss_scale=scaler.get_scale() if scaler else None,
                passed=finite, status='passed' if finite else 'failed')


def run(command, env=None, timeout=300):
    """Run ``command`` in the repository; (exit code, output tail, s)."""
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=timeout,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT, **(env or {})))
    return (result.returncode, (result.stdout + result.stderr)[-3000:],
            time.perf_counter() - start)


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def check_ddp(work_dir: str) -> dict:
    """A 1-GPU NCCL DDP run with ``--sync-bn`` and pinned memory."""
    if not osp.isdir(osp.join(REPO_ROOT, 'datasets', 'SIRST')):
        return dict(status='skipped', reason='datasets/SIRST is absent '
                    '(see datasets/README.md)')
    code, tail, seconds = run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=1',
         f'--master_port={free_port()}',
         'tools/train.py', DDP_CONFIG, '--launcher', 'pytorch', '--sync-bn',
         '--work-dir', work_dir, '--cfg-options',
         f'train_cfg.max_iters={DDP_ITERS}',
         f'train_cfg.val_interval={DDP_ITERS}',
         f'default_hooks.checkpoint.interval={DDP_ITERS}',
         'train_dataloader.pin_memory=True'])
    checkpoint = osp.join(work_dir, f'iter_{DDP_ITERS}.pth')
    record = dict(seconds=seconds, checkpoint=checkpoint)
    if code != 0 or not osp.isfile(checkpoint):
        return dict(record, passed=False, status='failed', output=tail)
    state = torch.load(checkpoint, map_location='cpu',
                       weights_only=False)['state_dict']
    finite = all(torch.isfinite(v).all() for v in state.values()
                 if v.is_floating_point())
    return dict(record, passed=bool(finite),
                status='passed' if finite else 'failed')


def check_amp_test(checkpoint: str, work_dir: str) -> dict:
    """``tools/test.py`` of ``checkpoint`` on SIRST, float32 and --amp."""
    metrics = {}
    for name, flags in (('fp32', []), ('amp', ['--amp'])):
        out = osp.join(work_dir, f'{name}.json')
        code, tail, _ = run([sys.executable, 'tools/test.py', DDP_CONFIG,
                             checkpoint, '--work-dir',
                             osp.join(work_dir, name), '--out', out] + flags)
        if code != 0:
            return dict(passed=False, status='failed', output=tail)
        with open(out) as handle:
            metrics[name] = json.load(handle)['metrics']
    differences = {key: metrics['amp'][key] - metrics['fp32'][key]
                   for key in AMP_METRICS}
    # the same decisions up to a few border pixels: IoU within 0.5 points
    passed = abs(differences['irstd/IoU']) <= 0.005
    return dict(fp32={k: metrics['fp32'][k] for k in AMP_METRICS},
                amp={k: metrics['amp'][k] for k in AMP_METRICS},
                differences=differences, passed=passed,
                status='passed' if passed else 'failed')


def reference_roots(given) -> dict:
    """NAME -> checkout of the official code: ``--reference-root`` values,
    else ``../refs/<repository>`` where it exists."""
    roots = dict(given)
    for name, repository in REFERENCE_CHECKOUTS.items():
        folder = osp.join(REPO_ROOT, '..', 'refs', repository)
        if name not in roots and osp.isdir(folder):
            roots[name] = osp.normpath(folder)
    return roots


def check_speed(models, roots: dict, out: str, device: str = 'cuda',
                runs: int = 5) -> dict:
    """images/s of training (batch 4) and inference (batch 4) of every
    model (``benchmarks/bench_models.py``, median of ``runs``), ours and
    the official code's where its checkout is given."""
    impls = ['ours'] + (['reference'] if roots else [])
    code, tail, _ = run(
        [sys.executable, 'benchmarks/bench_models.py', '--device', device,
         '--phases', 'train', 'infer4', '--train-batch', '4', '--runs',
         str(runs),
         '--models', *models, '--impls', *impls, '--out', out] +
        [f'--reference-root={n}={p}' for n, p in roots.items()],
        timeout=420)
    if code != 0:
        return dict(passed=False, status='failed', output=tail)
    with open(out) as handle:
        records = json.load(handle)['records']
    failed = [f'{r["model"]} {r["phase"]}: {r["error"]}' for r in records
              if 'error' in r]
    if failed:
        return dict(passed=False, status='failed', output='\n'.join(failed))
    speed = {}
    for record in records:
        if 'median_s' in record:
            entry = speed.setdefault(record['model'], {})
            entry[f'{record["impl"]}_{record["phase"]}_images_per_s'] = (
                4 / record['median_s'])
    return dict(models=speed, passed=True, status='passed')


def environment() -> dict:
    info = dict(python=platform.python_version(), torch=torch.__version__,
                cuda_available=torch.cuda.is_available(),
                cuda=torch.version.cuda)
    if torch.cuda.is_available():
        info.update(
            device=torch.cuda.get_device_name(0),
            cudnn=torch.backends.cudnn.version(),
            nccl='.'.join(map(str, torch.cuda.nccl.version())),
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            cudnn_deterministic=torch.backends.cudnn.deterministic,
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
            tf32_cudnn=torch.backends.cudnn.allow_tf32)
    return info


def run_checks(args) -> dict:
    """Every check of ``args.checks``; the CUDA ones skipped without
    CUDA."""
    from serankdet.apis import register_all_modules
    register_all_modules()
    report = dict(environment=environment())
    cuda = torch.cuda.is_available()
    work = args.work_dir or tempfile.mkdtemp(prefix='gpu_check_')
    for check in CHECKS:
        if check not in args.checks:
            continue
        if not cuda:
            report[check] = dict(status='skipped', reason=NO_CUDA)
            continue
        start = time.perf_counter()
        if check == 'golden':
            report[check] = {name: check_golden(name, 'cuda')
                             for name in args.models
                             if name in golden_cases()}
        elif check == 'amp_train':
            report[check] = {name: check_amp_train(name, 'cuda')
                             for name in args.models}
        elif check == 'ddp':
            report[check] = check_ddp(osp.join(work, 'ddp'))
        elif check == 'amp_test':
            checkpoint = report.get('ddp', {}).get('checkpoint')
            report[check] = (check_amp_test(checkpoint, osp.join(work, 'amp'))
                             if checkpoint and osp.isfile(checkpoint) else
                             dict(status='skipped',
                                  reason='needs the checkpoint of ddp'))
        elif check == 'speed':
            report[check] = check_speed(
                args.models, reference_roots(args.reference_root),
                osp.join(work, 'speed.json'))
        print(f'{check}: {time.perf_counter() - start:.0f} s', flush=True)
    return report


def table(report: dict) -> str:
    """One line per model and check, then the skipped checks."""
    lines = [f'{"check":<10} {"item":<12} {"status":<8} details']
    env = report['environment']
    lines.append(f'{"env":<10} {"torch":<12} {"":<8} torch {env["torch"]}, '
                 f'CUDA {env["cuda"]}, '
                 f'{env.get("device", "no GPU")}')
    for check in CHECKS:
        result = report.get(check)
        if result is None:
            continue
        if result.get('status') == 'skipped':
            lines.append(f'{check:<10} {"":<12} {"skipped":<8} '
                         f'{result["reason"]}')
            continue
        items = (result.items() if check in ('golden', 'amp_train')
                 else [('', result)])
        for item, record in items:
            details = {k: v for k, v in record.items()
                       if k not in ('status', 'passed', 'output')}
            lines.append(f'{check:<10} {item:<12} {record["status"]:<8} '
                         f'{json.dumps(details, default=str)[:160]}')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--checks', nargs='+', default=list(CHECKS),
                        choices=CHECKS)
    parser.add_argument('--models', nargs='+',
                        default=[m for m in BENCH_MODELS if m != 'unet'],
                        choices=list(BENCH_MODELS))
    parser.add_argument('--reference-root', action='append', default=[],
                        type=reference_root, metavar='NAME=PATH',
                        help='checkout of the official code of model NAME '
                        '(default: ../refs/<repository> where present)')
    parser.add_argument('--work-dir', help='checkpoints and logs (default: '
                        'a temporary folder)')
    parser.add_argument('--out', default='work_dirs/gpu_check.json')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    report = run_checks(args)
    print(table(report))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as handle:
        json.dump(report, handle, indent=2, default=str)
    print(f'written to {args.out}')
    failed = [check for check in CHECKS
              if check in report and not all_passed(report[check])]
    return 1 if failed else 0


def all_passed(result: dict) -> bool:
    """Whether a check passed (a skipped one counts as passed)."""
    if result.get('status') in ('skipped', 'passed'):
        return True
    if 'status' in result:
        return False
    return all(record['status'] == 'passed' for record in result.values())


if __name__ == '__main__':
    sys.exit(main())
