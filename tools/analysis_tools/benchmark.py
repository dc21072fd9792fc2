"""Inference speed of a model: frames/s and latency.

    python tools/analysis_tools/benchmark.py CONFIG [CKPT] [--shape H W]
        [--batch-size N] [--repeat N] [--warmup N] [--device D]
        [--threads N] [--amp] [--cfg-options key=value ...]

Times the network forward that produces the main logits
(``model(x, mode='tensor')``, no gradient) on a random preprocessed input of
(batch, in_channels, H, W), padded up to the model's size divisor; reading,
preprocessing and post-processing are not included. ``--warmup`` passes are
run first and discarded (allocator, kernel selection, cuDNN autotuning);
then each of ``--repeat`` passes is timed (CUDA synchronised). Prints the
median, minimum and maximum latency per batch and per frame, and frames/s
from the median. Without CKPT the weights are random, which does not change
the speed of these models. ``--amp`` times the forward under autocast, as
the tools' ``--amp`` runs it (bfloat16 on a CPU, float16 on a GPU).
"""
import argparse
import statistics
import time

import torch
from mmengine.config import DictAction
from mmengine.runner.amp import autocast

from serankdet.apis import init_model
from serankdet.utils import warn_if_bfloat16_emulated


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Time model inference')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (optional)')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        default=(256, 256), help='input size (default 256 256)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=20,
                        help='timed passes (default 20)')
    parser.add_argument('--warmup', type=int, default=5,
                        help='untimed passes first (default 5)')
    parser.add_argument('--device', default='cpu', help="e.g. 'cuda:0'")
    parser.add_argument('--threads', type=int,
                        help='torch CPU threads (default: torch decides)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (bfloat16 on CPU, float16 on '
                        'GPU)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0 or args.batch_size < 1:
        parser.error('--repeat and --batch-size must be >= 1, --warmup >= 0')
    return args


def time_forward(model, inputs: torch.Tensor, repeat: int,
                 warmup: int, amp: bool = False) -> list:
    """Seconds of each of ``repeat`` timed forward passes."""
    sync = (torch.cuda.synchronize if inputs.device.type == 'cuda' else
            (lambda: None))
    times = []
    with torch.no_grad(), autocast(device_type=inputs.device.type,
                                   enabled=amp):
        for index in range(warmup + repeat):
            sync()
            start = time.perf_counter()
            model(inputs, mode='tensor')
            sync()
            if index >= warmup:
                times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model = init_model(args.config, args.checkpoint, args.device,
                       args.cfg_options)
    pre = model.data_preprocessor
    div = pre.size_divisor or 1
    height, width = (-(-s // div) * div for s in args.shape)
    inputs = torch.randn(args.batch_size, pre.in_channels, height, width,
                         device=args.device)
    if args.amp:
        warn_if_bfloat16_emulated(inputs.device.type)
    times = time_forward(model, inputs, args.repeat, args.warmup, args.amp)
    median = statistics.median(times)
    batch = args.batch_size
    print(f'config: {args.config}\n'
          f'input: {batch}x{pre.in_channels}x{height}x{width} on '
          f'{args.device} ({torch.get_num_threads()} CPU threads'
          f'{", autocast" if args.amp else ""}), '
          f'{args.warmup} warm-up + {args.repeat} timed passes')
    print(f'latency per batch: median {median * 1e3:.2f} ms, min '
          f'{min(times) * 1e3:.2f} ms, max {max(times) * 1e3:.2f} ms')
    print(f'latency per frame: median {median / batch * 1e3:.2f} ms')
    print(f'throughput: {batch / median:.2f} frames/s (median)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
