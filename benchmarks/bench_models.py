"""Time each model's train step and inference, and measure peak memory.

For every model config (at 256 and, with ``--paper-size``, at its paper
size) this measures, each phase in a fresh process so that peak memory is
the phase's own:

- ``train``: forward, loss on every output, backward and optimizer step
  with the config's loss and optimizer, batch ``--train-batch`` (default 2);
- ``infer1`` / ``infer4``: eval-mode forward (``mode='tensor'``) without
  gradients at batch 1 and 4.

Each phase runs ``--warmup`` untimed iterations, then ``--runs`` timed ones;
the table gives median, min and max seconds per iteration and the peak
resident memory of the process (``ru_maxrss``), or on a GPU
``torch.cuda.max_memory_allocated``. Example::

    python benchmarks/bench_models.py --threads 2 --runs 3 \
        --out work_dirs/benchmarks/models.json
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = {
    'unet': ('configs/unet/unet_1xb8-800i_synthetic-128x128.py', 256),
    'serankdet': ('configs/serankdet/serankdet_1xb4-500e_irstd1k-512x512.py',
                  512),
    'datransnet': (
        'configs/datransnet/datransnet_1xb4-400e_irstd1k-512x512.py', 512),
    'samspl-t': ('configs/samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
                 256),
}
PHASES = ('train', 'infer1', 'infer4')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=list(MODELS),
                        choices=list(MODELS))
    parser.add_argument('--phases', nargs='+', default=list(PHASES),
                        choices=PHASES)
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--paper-size', action='store_true',
                        help='also measure at each model\'s paper size')
    parser.add_argument('--train-batch', type=int, default=2)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default=None,
                        help="default: 'cuda' when available, else 'cpu'")
    parser.add_argument('--out', default='work_dirs/benchmarks/models.json')
    parser.add_argument('--worker', nargs=3, metavar=('MODEL', 'PHASE', 'SIZE'),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def build(model_name, size, device):
    """The model of the config, and a matching random batch builder."""
    import torch
    from mmengine.config import Config
    from serankdet.registry import MODELS as REGISTRY
    from serankdet.utils import register_all_modules
    register_all_modules()
    config, _ = MODELS[model_name]
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    if 'img_size' in cfg.model.get('neck', {}):  # DATransNet's constant
        cfg.model.neck.img_size = size
    torch.manual_seed(0)
    model = REGISTRY.build(cfg.model).to(device)
    channels = cfg.model.data_preprocessor.in_channels

    def batch(n):
        inputs = torch.randn(n, channels, size, size, device=device)
        target = torch.zeros(n, 1, size, size, device=device)
        target[..., size // 3:size // 3 + 3, size // 2:size // 2 + 3] = 1
        return inputs, target

    return cfg, model, batch


def run_worker(model_name, phase, size, args):
    """Measure one phase in this process; print a JSON line."""
    import torch
    torch.set_num_threads(args.threads)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    cfg, model, batch = build(model_name, size, device)
    if phase == 'train':
        from mmengine.optim import build_optim_wrapper
        model.train()
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
        inputs, target = batch(args.train_batch)

        def step():
            outputs = model.forward_outputs(inputs)
            losses = model.decode_head.loss_by_outputs(outputs, target)
            optim.update_params(sum(losses.values()))
    else:
        model.eval()
        inputs, _ = batch(4 if phase == 'infer4' else 1)

        def step():
            with torch.no_grad():
                model(inputs, mode='tensor')

    times = []
    for index in range(args.warmup + args.runs):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        if index >= args.warmup:
            times.append(time.perf_counter() - start)
    if device.startswith('cuda'):
        memory = torch.cuda.max_memory_allocated() / 2**30
    else:
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps(dict(model=model_name, phase=phase, size=size,
                          device=device, times=times, peak_gib=memory)))


def measure(model_name, phase, size, args):
    """Run one phase in a fresh process and parse its JSON line."""
    command = [sys.executable, __file__, '--worker', model_name, phase,
               str(size), '--runs', str(args.runs), '--warmup',
               str(args.warmup), '--threads', str(args.threads),
               '--train-batch', str(args.train_batch)]
    if args.device:
        command += ['--device', args.device]
    result = subprocess.run(command, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    if result.returncode != 0:
        return dict(model=model_name, phase=phase, size=size,
                    error=result.stderr.strip().splitlines()[-1])
    record = json.loads(result.stdout.strip().splitlines()[-1])
    times = record.pop('times')
    record.update(median_s=statistics.median(times), min_s=min(times),
                  max_s=max(times), runs=len(times))
    return record


def main():
    args = parse_args()
    if args.worker:
        model_name, phase, size = args.worker
        run_worker(model_name, phase, int(size), args)
        return
    records = []
    header = (f'{"model":<11} {"size":>4} {"phase":<7} {"median s":>9} '
              f'{"min s":>8} {"max s":>8} {"peak GiB":>9}')
    print(header)
    print('-' * len(header))
    for model_name in args.models:
        sizes = [args.size]
        if args.paper_size and MODELS[model_name][1] != args.size:
            sizes.append(MODELS[model_name][1])
        for size in sizes:
            for phase in args.phases:
                record = measure(model_name, phase, size, args)
                records.append(record)
                if 'error' in record:
                    print(f'{model_name:<11} {size:>4} {phase:<7} '
                          f'error: {record["error"]}')
                    continue
                print(f'{model_name:<11} {size:>4} {phase:<7} '
                      f'{record["median_s"]:>9.3f} {record["min_s"]:>8.3f} '
                      f'{record["max_s"]:>8.3f} {record["peak_gib"]:>9.2f}')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as handle:
        json.dump(dict(machine=platform.platform(), processor=platform.processor(),
                       cpu_count=os.cpu_count(), threads=args.threads,
                       train_batch=args.train_batch, records=records),
                  handle, indent=2)
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
