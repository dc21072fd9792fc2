"""Time each model's train step and inference, and measure peak memory.

For every model config (at ``--size``, and with ``--paper-size`` also at
its paper size) this measures, each phase in a fresh process so that peak
memory is the phase's own:

- ``train``: forward, loss on every output, backward and optimizer step
  with the config's loss and optimizer, batch ``--train-batch`` (default 2);
- ``infer1`` / ``infer4``: eval-mode forward (``mode='tensor'``) without
  gradients at batch 1 and 4; ``infer1`` also counts the parameters and
  the multiply-accumulates of one frame (GMACs, what papers call FLOPs)
  for ``ours`` and ``reference``.

Each phase runs ``--warmup`` untimed iterations, then ``--runs`` timed ones.
The table gives median, min and max seconds per iteration, the peak memory
of the process (``ru_maxrss`` on CPU, ``torch.cuda.max_memory_allocated``
on GPU), the memory in use once the model is built, before the first
iteration (on CPU it includes the imported libraries: mmengine/mmseg for
ours, a bare torch for the reference), and its growth over the timed
iterations (resident or allocated memory after the last minus after the
warm-up; ~0 when nothing leaks). Each record also keeps the memory after
every iteration (``memory_mib``, warm-ups included): a leak grows by the
same amount each step, the allocator settling grows once and stays.

Implementations compared in the same run (``--impls``):

- ``ours``: our model, float32;
- ``ours-amp``: our model under the ``--amp`` switch of the tools (bfloat16
  autocast on CPU, float16 on GPU; losses stay float32);
- ``ours-channels-last``: model and input in ``torch.channels_last``;
- ``ours-compile``: the forward passes through ``torch.compile`` (what
  mmengine's ``compile=True`` config key does; the first, compiling
  iteration is the warm-up and its time is printed separately);
- ``reference``: the authors' own code, built from the checkouts given with
  ``--reference-root NAME=PATH`` (see ``verification/official_models.py``;
  needs ``pip install einops`` for SeRankDet) with its official loss and
  optimizer. Rows of ours then get the speed-up ``reference median /
  median`` of the same phase.

Example (the tables of the README and of issue 8)::

    python benchmarks/bench_models.py --threads 2 --runs 5 \\
        --impls ours ours-amp reference \\
        --reference-root serankdet=../SeRankDet \\
        --reference-root datransnet=../DATransNet \\
        --reference-root samspl-t=../SAM-SPL \\
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
#: name -> (config, paper training size)
MODELS = {
    'unet': ('configs/unet/unet_1xb8-800i_synthetic-128x128.py', 256),
    'serankdet': ('configs/serankdet/serankdet_1xb4-500e_irstd1k-512x512.py',
                  512),
    'datransnet': (
        'configs/datransnet/datransnet_1xb4-400e_irstd1k-512x512.py', 512),
    'samspl-t': ('configs/samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
                 256),
    'dnanet': ('configs/dnanet/dnanet_1xb16-1500e_nudt-sirst-256x256.py',
               256),
    'uiunet': ('configs/uiunet/uiunet_1xb3-500e_sirst-288x288.py', 288),
    'sctransnet': (
        'configs/sctransnet/sctransnet_1xb16-1000e_sirst-256x256.py', 256),
    'mshnet': ('configs/mshnet/mshnet_1xb4-400e_nudt-sirst-256x256.py', 256),
    'acm': ('configs/acm/acm_1xb16-400e_sirst-256x256.py', 256),
    'alcnet': ('configs/alcnet/alcnet_1xb16-400e_sirst-256x256.py', 256),
}
#: models whose official code ``verification/official_models.py`` builds
REFERENCE_MODELS = ('serankdet', 'datransnet', 'samspl-t')
PHASES = ('train', 'infer1', 'infer4')
IMPLS = ('ours', 'ours-amp', 'ours-channels-last', 'ours-compile',
         'reference')


def reference_root(text):
    """``NAME=PATH`` of --reference-root -> (NAME, PATH)."""
    name, sep, path = text.partition('=')
    if not sep or not path or name not in REFERENCE_MODELS:
        raise argparse.ArgumentTypeError(
            f'expected NAME=PATH with NAME a reference model '
            f'({", ".join(REFERENCE_MODELS)}), got {text!r}')
    return name, path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=list(MODELS),
                        choices=list(MODELS))
    parser.add_argument('--phases', nargs='+', default=list(PHASES),
                        choices=PHASES)
    parser.add_argument('--impls', nargs='+', default=['ours'],
                        choices=IMPLS)
    parser.add_argument('--reference-root', type=reference_root,
                        action='append', default=[], metavar='NAME=PATH',
                        help='checkout of the official code of model NAME')
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--paper-size', action='store_true',
                        help='also measure at each model\'s paper size')
    parser.add_argument('--train-batch', type=int, default=2)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=1,
                        help='fresh processes per implementation, '
                        'interleaved; their timed runs are pooled')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default=None,
                        help="default: 'cuda' when available, else 'cpu'")
    parser.add_argument('--out', default='work_dirs/benchmarks/models.json')
    parser.add_argument('--worker', nargs=4,
                        metavar=('MODEL', 'PHASE', 'SIZE', 'IMPL'),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def build_ours(model_name, size, device, impl='ours'):
    """Our model of the config, its loss and its optimizer wrapper."""
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from serankdet.registry import MODELS as REGISTRY
    from serankdet.apis import register_all_modules
    register_all_modules()
    config, _ = MODELS[model_name]
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    if 'img_size' in cfg.model.get('neck', {}):  # DATransNet's constant
        cfg.model.neck.img_size = size
    torch.manual_seed(0)
    model = REGISTRY.build(cfg.model).to(device)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    forward_outputs, forward_tensor = model.forward_outputs, model.encode_decode
    if impl == 'ours-channels-last':
        model.to(memory_format=torch.channels_last)
    elif impl == 'ours-compile':
        forward_outputs = torch.compile(forward_outputs)
        forward_tensor = torch.compile(forward_tensor)

    def train_loss(inputs, target):
        outputs = forward_outputs(inputs)
        return sum(model.decode_head.loss_by_outputs(outputs, target).values())

    def update(loss):
        optim.update_params(loss)

    return (model, cfg.model.data_preprocessor.in_channels, train_loss,
            update, forward_tensor)


def build_official(model_name, size, root):
    """The reference model with its official loss and optimizer."""
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from verification.official_models import build_reference
    ref = build_reference(model_name, root, size)
    optimizer = ref.make_optimizer(
        [p for p in ref.model.parameters() if p.requires_grad])

    def update(loss):
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return (ref.model, ref.in_channels,
            lambda x, t: ref.loss(ref.forward_train(x), t), update,
            ref.forward_eval)


def current_memory_gib(device):
    """Memory in use now: resident set (CPU) or allocated tensors (GPU)."""
    import torch
    if device.startswith('cuda'):
        return torch.cuda.memory_allocated() / 2**30
    with open('/proc/self/statm') as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**30


def complexity(model, forward, channels, size):
    """(parameters, GMACs of one size x size frame): multiply-accumulates
    of the forward pass counted by mmengine's ``FlopAnalyzer`` (fvcore's
    rules: one per multiply-add of convolutions, matrix products and
    linear layers, plus normalisation and upsampling; what papers call
    FLOPs)."""
    import torch
    from mmengine.analysis import FlopAnalyzer

    class Forward(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, inputs):
            return forward(inputs)

    analyzer = FlopAnalyzer(Forward().eval(),
                            (torch.randn(1, channels, size, size), ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        macs = analyzer.total()
    return sum(p.numel() for p in model.parameters()), macs / 1e9


def run_worker(model_name, phase, size, impl, args):
    """Measure one phase in this process; print a JSON line."""
    import torch
    from mmengine.runner.amp import autocast
    torch.set_num_threads(args.threads)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if impl == 'reference':
        root = dict(args.reference_root)[model_name]
        model, channels, train_loss, update, infer = build_official(
            model_name, size, root)
        model.to(device)
    else:
        model, channels, train_loss, update, infer = build_ours(
            model_name, size, device, impl)

    def mixed():
        return autocast(device_type=device.split(':')[0],
                        enabled=impl == 'ours-amp')

    def batch(n):
        inputs = torch.randn(n, channels, size, size, device=device)
        if impl == 'ours-channels-last':
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        target = torch.zeros(n, 1, size, size, device=device)
        target[..., size // 3:size // 3 + 3, size // 2:size // 2 + 3] = 1
        return inputs, target

    if phase == 'train':
        model.train()
        inputs, target = batch(args.train_batch)

        def step():
            with mixed():
                loss = train_loss(inputs, target)
            update(loss)
    else:
        model.eval()
        inputs, _ = batch(4 if phase == 'infer4' else 1)

        def step():
            with torch.no_grad(), mixed():
                infer(inputs)

    built = current_memory_gib(device)
    times, warmup_times, after_warmup = [], [], None
    # memory after every iteration: a leak grows by the same amount each
    # step, the allocator settling grows once and stays
    memory_mib = []
    for index in range(args.warmup + args.runs):
        if index == args.warmup:
            after_warmup = current_memory_gib(device)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        (times if index >= args.warmup else warmup_times).append(
            time.perf_counter() - start)
        memory_mib.append(round(current_memory_gib(device) * 1024, 1))
    if device.startswith('cuda'):
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    growth = (current_memory_gib(device) - after_warmup) * 1024
    record = dict(model=model_name, phase=phase, size=size, impl=impl,
                  device=device, times=times, warmup_s=warmup_times,
                  peak_gib=peak, built_gib=built, growth_mib=growth,
                  memory_mib=memory_mib)
    if phase == 'infer1' and impl in ('ours', 'reference'):
        record['params'], record['gmacs'] = complexity(
            model, infer, channels, size)
    print(json.dumps(record))


def measure_once(model_name, phase, size, impl, args):
    """Run one phase in a fresh process and parse its JSON line."""
    command = [sys.executable, __file__, '--worker', model_name, phase,
               str(size), impl, '--runs', str(args.runs), '--warmup',
               str(args.warmup), '--threads', str(args.threads),
               '--train-batch', str(args.train_batch)]
    for name, root in args.reference_root:
        command += ['--reference-root', f'{name}={root}']
    if args.device:
        command += ['--device', args.device]
    result = subprocess.run(command, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ['no output']
        return dict(model=model_name, phase=phase, size=size, impl=impl,
                    error=lines[-1])
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(model_name, phase, size, impls, args):
    """Records of one phase for each implementation.

    With ``--rounds R`` > 1 every implementation runs R times, the rounds
    interleaved (A, B, A, B, ...), so that a drift of the machine's speed
    during the benchmark affects all of them alike; the times of all rounds
    are pooled, memory (peak; growth with its trace) is the worst round's.
    """
    runs = {impl: [] for impl in impls}
    for _ in range(args.rounds):
        for impl in impls:
            runs[impl].append(measure_once(model_name, phase, size, impl,
                                           args))
    records = []
    for impl, rounds in runs.items():
        failed = [r for r in rounds if 'error' in r]
        if failed:
            records.append(failed[0])
            continue
        times = [t for r in rounds for t in r['times']]
        worst = max(rounds, key=lambda r: r['growth_mib'])
        record = dict(rounds[0], times=times, rounds=len(rounds),
                      peak_gib=max(r['peak_gib'] for r in rounds),
                      growth_mib=worst['growth_mib'],
                      memory_mib=worst['memory_mib'],
                      warmup_s=[t for r in rounds for t in r['warmup_s']])
        record.update(median_s=statistics.median(times), min_s=min(times),
                      max_s=max(times), runs=len(times))
        records.append(record)
    return records


def implementations(model_name, args):
    """The requested implementations that can run for this model."""
    roots = dict(args.reference_root)
    return [impl for impl in args.impls
            if impl != 'reference' or model_name in roots]


def format_row(record, reference):
    head = (f'{record["model"]:<11} {record["size"]:>4} '
            f'{record["phase"]:<7} {record["impl"]:<18}')
    if 'error' in record:
        return f'{head} error: {record["error"]}'
    speedup = ''
    if reference and 'median_s' in reference and record['impl'] != 'reference':
        record['speedup_vs_reference'] = (reference['median_s'] /
                                          record['median_s'])
        speedup = f'{record["speedup_vs_reference"]:.2f}x'
    compiling = (f'  (compiling iteration {record["warmup_s"][0]:.0f} s)'
                 if record['impl'] == 'ours-compile' and record['warmup_s']
                 else '')
    size = (f'  ({record["params"] / 1e6:.3f} M parameters, '
            f'{record["gmacs"]:.2f} GMACs)' if 'gmacs' in record else '')
    return (f'{head} {record["median_s"]:>9.3f} {record["min_s"]:>8.3f} '
            f'{record["max_s"]:>8.3f} {record["peak_gib"]:>9.2f} '
            f'{record["built_gib"]:>10.2f} {record["growth_mib"]:>11.1f} '
            f'{speedup:>8}{compiling}{size}')


def main():
    args = parse_args()
    if args.worker:
        model_name, phase, size, impl = args.worker
        run_worker(model_name, phase, int(size), impl, args)
        return
    missing = [name for name in args.models if 'reference' in args.impls
               and name in REFERENCE_MODELS
               and name not in dict(args.reference_root)]
    if missing:
        print(f'no --reference-root for {", ".join(missing)}: their '
              'reference rows are skipped')
    records = []
    header = (f'{"model":<11} {"size":>4} {"phase":<7} {"impl":<18} '
              f'{"median s":>9} {"min s":>8} {"max s":>8} {"peak GiB":>9} '
              f'{"built GiB":>10} {"growth MiB":>11} {"vs ref":>8}')
    print(header)
    print('-' * len(header))
    for model_name in args.models:
        sizes = [args.size]
        if args.paper_size and MODELS[model_name][1] != args.size:
            sizes.append(MODELS[model_name][1])
        impls = implementations(model_name, args)
        # The reference first, so that our rows can show the speed-up.
        impls.sort(key=lambda impl: impl != 'reference')
        for size in sizes:
            for phase in args.phases:
                reference = None
                for record in measure(model_name, phase, size, impls, args):
                    if record['impl'] == 'reference':
                        reference = record
                    print(format_row(record, reference), flush=True)
                    records.append(record)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as handle:
        json.dump(dict(machine=platform.platform(),
                       processor=platform.processor(),
                       cpu_count=os.cpu_count(), threads=args.threads,
                       train_batch=args.train_batch, runs=args.runs,
                       rounds=args.rounds, warmup=args.warmup, load_average=os.getloadavg(),
                       records=records), handle, indent=2)
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
