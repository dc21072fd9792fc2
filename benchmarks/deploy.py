"""Deployment backends: speed and accuracy of PyTorch and ONNX Runtime.

For every model (a config and its checkpoint) this measures, on the CPU
with ``--threads`` threads (default 2), four ways of running it:

- ``pytorch-fp32``: ``IRSTDInferencer`` with the checkpoint, float32;
- ``pytorch-bf16``: the same under its ``amp=True`` switch (bfloat16
  autocast on a CPU; ``--amp`` of the tools);
- ``ort-fp32``: ``IRSTDInferencer(backend='onnxruntime')`` on the graph of
  ``tools/deployment/export_onnx.py`` (``main``, with its numerical check);
- ``ort-int8``: the same on that graph quantized by
  ``tools/deployment/quantize_onnx.py`` (``main``, calibrated on
  ``--num-calib`` frames of ``<data-root>/trainval/images``).

Speed: frames/s of the inferencer (reading a PNG, preprocessing, network,
decision rule and target list) over ``--frames`` synthetic frames of each
size (``--sizes``, width x height, default 640x512 and 256x256), batch 1,
the median of ``--runs`` timed passes (default 5) after one warm-up pass;
the four backends are interleaved within every run, so that a drift of the
machine's speed affects them alike. Each row gives its speed-up over the
``pytorch-fp32`` row of the same model and size measured in this run.

Accuracy: IoU, nIoU, Pd and Fa of each backend on the test split of
``--data-root`` (default ``datasets/SIRST``, ``<root>/test/{images,masks}``)
scored by ``tools/test.py`` (``--amp``, ``--backend onnxruntime --onnx``),
with the model's own test pipeline; each row gives its difference to the
``pytorch-fp32`` row of the same run in points (IoU, nIoU, Pd: percentage
points; Fa: x 1e-6). All four use one decision rule: a checkpoint's
calibrated rule (``CKPT.decision.json``) travels into its graphs'
metadata at export, and ``tools/test.py`` applies it to both.

End to end (``--video-models``, default the ACM and ALCNet models given):
``tools/infer.py CONFIG CKPT clip.avi --save-video`` on a generated
640x512 MJPG clip of ``--video-frames`` frames, frames/s as infer.py
reports it (decoding, preprocessing, model, target list and overlay video
writing, in its threads; start-up excluded), median of ``--runs``.

Where the time goes, at the first size: ONNX Runtime's profiler on each
graph, run by the inferencer on one frame (3 passes after a warm-up; a
model tested in sliding windows runs the graph once per window): the
graph's milliseconds per frame,
the share of a frame's time outside it (reading, preprocessing, decision
rule, target list) and the operator types by share of the graph's time.

The goals of issue 30 are printed beside the numbers, met or missed and by
how much: ``ort-fp32`` >= 1.3x and ``ort-int8`` >= 2.5x ``pytorch-fp32``;
metrics within 0.5 IoU points and 1 Pd point of ``pytorch-fp32``; ACM or
ALCNet >= 25 frames/s on 640x512 video end to end.

Models: ``--models`` takes model-zoo names (``model-index.yml``) or
``CONFIG[=CKPT]`` (no CKPT: random weights, for speed only; said in the
row); the default is every shipped model when ``model-index.yml`` exists.
A step that fails for a model (an export, a quantization, a backend at a
size) is recorded in its row with the first line of its error, and the
others go on. Example::

    python benchmarks/deploy.py --threads 2 --runs 5 \\
        --out benchmarks/results/deploy.json
    python benchmarks/deploy.py --models \\
        configs/acm/acm_1xb16-400e_sirst-256x256.py=work_dirs/acm/best.pth

The JSON (``--out``, default ``benchmarks/results/deploy.json``) is
rewritten after every model, so an interrupted run keeps what it measured.
"""
import argparse
import contextlib
import io
import json
import os
import os.path as osp
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:  # tools/ and serankdet/ of this checkout
    sys.path.insert(0, REPO_ROOT)

BACKENDS = ('pytorch-fp32', 'pytorch-bf16', 'ort-fp32', 'ort-int8')
REFERENCE = 'pytorch-fp32'
#: (width, height)
DEFAULT_SIZES = ((640, 512), (256, 256))
VIDEO_SIZE = (640, 512)
METRICS = ('IoU', 'nIoU', 'Pd', 'Fa')
#: the goals of issue 30
SPEED_GOALS = {'ort-fp32': 1.3, 'ort-int8': 2.5}
IOU_POINTS = 0.5
PD_POINTS = 1.0
VIDEO_FPS_GOAL = 25.0
#: models the video goal is stated for (config or name containing these)
VIDEO_GOAL_MODELS = ('acm', 'alcnet')
#: infer.py's summary line
SUMMARY = re.compile(r'(\d+) frames, \d+ targets, ([\d.]+) s '
                     r'\(([\d.]+) frames/s')


# --- helpers --------------------------------------------------------------

def size_arg(text):
    """'640x512' -> (640, 512) (width, height)."""
    match = re.fullmatch(r'(\d+)x(\d+)', text)
    if not match or min(map(int, match.groups())) < 1:
        raise argparse.ArgumentTypeError(
            f'expected WIDTHxHEIGHT such as 640x512, got {text!r}')
    return int(match[1]), int(match[2])


def first_line(error) -> str:
    """The first non-empty line of an exception or text."""
    text = (f'{type(error).__name__}: {error}'
            if isinstance(error, BaseException) else str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else 'unknown error'


def size_name(size) -> str:
    return f'{size[0]}x{size[1]}'


@contextlib.contextmanager
def captured(log_path):
    """Send stdout and stderr (prints, warnings, loggers created inside)
    to ``log_path``; yields the text buffer of the run."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), \
            contextlib.redirect_stderr(buffer):
        try:
            yield buffer
        finally:
            with open(log_path, 'a') as handle:
                handle.write(buffer.getvalue())


def call_tool(main, argv, log_path):
    """Run a tool's ``main(argv)`` in this process, its output into
    ``log_path``; None when it succeeds, else the first line of why."""
    with captured(log_path) as buffer:
        try:
            status = main(argv)
        except Exception as error:  # noqa: BLE001 (recorded in the row)
            traceback.print_exc()
            return first_line(error)
    if status:
        errors = [line for line in buffer.getvalue().splitlines()
                  if line.startswith('error')]
        return first_line(errors[0] if errors else
                          f'exit status {status}')
    return None


# --- models ---------------------------------------------------------------

def zoo_models():
    """model-zoo name -> (config, weights), or {} without model-index.yml."""
    from serankdet.apis.model_zoo import MODEL_INDEX, ZOO_ROOT
    if not osp.isfile(osp.join(ZOO_ROOT, MODEL_INDEX)):
        return {}
    from serankdet.apis.model_zoo import load_model_index
    return {name: (model.config, model.weights)
            for name, model in load_model_index().items()}


def parse_model(spec: str) -> dict:
    """A ``--models`` item: a model-zoo name or ``CONFIG[=CKPT]``."""
    config, _, checkpoint = spec.partition('=')
    if not osp.isfile(config) and '=' not in spec:
        from serankdet.apis.model_zoo import find_zoo_model, verified_weights
        zoo = find_zoo_model(spec)  # raises for an unknown name
        if zoo is not None:
            return dict(name=spec, config=zoo.config,
                        checkpoint=verified_weights(zoo))
    if not osp.isfile(config):
        raise FileNotFoundError(f'config "{config}" does not exist')
    if checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint "{checkpoint}" does not exist')
    name = osp.splitext(osp.basename(config))[0]
    return dict(name=name, config=osp.abspath(config),
                checkpoint=osp.abspath(checkpoint) if checkpoint else None)


def random_checkpoint(config: str, path: str) -> str:
    """Random weights (seed 0) of ``config`` saved to ``path``."""
    import torch

    from serankdet.apis import init_model
    torch.manual_seed(0)
    model = init_model(config, None, 'cpu')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


def _plain(value):
    """Config values as plain Python (for a config file's text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def test_set_config(config: str, data_root: str, path: str) -> str:
    """A config inheriting ``config`` whose test set is
    ``<data_root>/test/{images,masks}`` (``IRSTDDataset``), read with the
    model's own test pipeline, in the main process."""
    from mmengine.config import Config
    pipeline = _plain(Config.fromfile(config).test_dataloader.dataset.pipeline)
    dataset = dict(_delete_=True, type='IRSTDDataset',
                   data_root=osp.abspath(data_root),
                   data_prefix=dict(img_path='test/images',
                                    seg_map_path='test/masks'),
                   test_mode=True, pipeline=pipeline)
    with open(path, 'w') as handle:
        handle.write(f'_base_ = [{osp.abspath(config)!r}]\n'
                     f'test_dataloader = dict(num_workers=0, '
                     f'persistent_workers=False, dataset={dataset!r})\n')
    return path


# --- export and quantization (the tools' own code) ------------------------

def export_graph(config, checkpoint, out, exporters, shape, atol, log):
    """``export_onnx.py`` with dynamic batch, height and width by each
    exporter in turn, then static at ``shape`` (square: the inferencer runs
    other sizes in windows of it); the first that passes its check.

    Returns:
        dict: ``file``, ``exporter``, ``dynamic`` and the failed attempts
        (``tried``), or ``error`` (the first attempt's first line).
    """
    from tools.deployment import export_onnx
    tried = []
    for dynamic in (True, False):
        for exporter in exporters:
            argv = [config, checkpoint, out, '--exporter', exporter,
                    '--shape', str(shape[0]), str(shape[1]),
                    '--atol', str(atol)] + (['--dynamic'] if dynamic else [])
            error = call_tool(export_onnx.main, argv, log)
            kind = f'{exporter} {"dynamic" if dynamic else "static"}'
            if error is None:
                return dict(file=out, exporter=exporter, dynamic=dynamic,
                            tried=tried)
            tried.append(f'{kind}: {error}')
    return dict(error=tried[0], tried=tried)


def quantize_graph(config, model, out, calib_dir, num_frames, log):
    """``quantize_onnx.py`` on ``model``; dict(file) or dict(error)."""
    from tools.deployment import quantize_onnx
    if not osp.isdir(calib_dir):
        return dict(error=f'no calibration frames: "{calib_dir}" is not a '
                    'folder (--calib-dir)')
    error = call_tool(quantize_onnx.main, [
        config, model, out, '--calib-dir', calib_dir, '--num-frames',
        str(num_frames)], log)
    return dict(error=error) if error else dict(file=out)


# --- speed ----------------------------------------------------------------

def write_frames(folder, size, count):
    """``count`` PNG frames of ``size`` (width, height): dim noise with
    three bright 3x3 targets each."""
    import cv2
    import numpy as np
    os.makedirs(folder, exist_ok=True)
    width, height = size
    paths = []
    for index in range(count):
        rng = np.random.default_rng(index)
        image = rng.integers(0, 60, (height, width), dtype=np.uint8)
        for y, x in zip(rng.integers(2, height - 2, 3),
                        rng.integers(2, width - 2, 3)):
            image[y - 1:y + 2, x - 1:x + 2] = 250
        path = osp.join(folder, f'frame_{index:03d}.png')
        cv2.imwrite(path, image)
        paths.append(path)
    return paths


def build_inferencer(backend, config, checkpoint, graphs):
    """The ``IRSTDInferencer`` of a backend (raises why it cannot)."""
    from serankdet.apis import IRSTDInferencer
    if backend.startswith('pytorch'):
        return IRSTDInferencer(model=config, weights=checkpoint,
                               device='cpu', amp=backend == 'pytorch-bf16')
    graph = graphs.get(backend, {})
    if 'file' not in graph:
        raise RuntimeError(graph.get('error', 'no graph'))
    return IRSTDInferencer(model=config, backend='onnxruntime',
                           onnx_file=graph['file'], device='cpu')


def measure_speed(inferencers, frames_by_size, runs, threads):
    """Frames/s of every inferencer at every size: one warm-up pass, then
    ``runs`` timed passes with the backends interleaved in each.

    Args:
        inferencers (dict): backend -> inferencer, or the error (str) that
            kept it from being built.
        frames_by_size (dict): (width, height) -> frame paths.

    Returns:
        list[dict]: rows with ``size``, ``backend`` and ``times_s`` /
        ``frames_per_second`` (median), or ``error``.
    """
    import torch
    rows = []
    for size, frames in frames_by_size.items():
        times = {b: [] for b in inferencers}
        errors = {b: i for b, i in inferencers.items() if isinstance(i, str)}
        for index in range(runs + 1):  # pass 0 is the warm-up
            for backend, inferencer in inferencers.items():
                if backend in errors:
                    continue
                torch.set_num_threads(threads)
                start = time.perf_counter()
                try:
                    inferencer(frames, batch_size=1)
                except Exception as error:  # noqa: BLE001 (in the row)
                    errors[backend] = first_line(error)
                    continue
                if index:
                    times[backend].append(time.perf_counter() - start)
        for backend in inferencers:
            row = dict(size=list(size), backend=backend, frames=len(frames))
            if backend in errors:
                row['error'] = errors[backend]
            else:
                median = statistics.median(times[backend])
                row.update(times_s=times[backend], median_s=median,
                           frames_per_second=len(frames) / median)
            rows.append(row)
    return rows


def profile_graph(config, path, frame, threads, runs=3, top=6) -> dict:
    """Where a graph's time goes on one frame, run as the inferencer runs
    it (whole, padded, or in sliding windows): ONNX Runtime's profiler
    over ``runs`` passes of the ``frame`` file through
    ``IRSTDInferencer(backend='onnxruntime')``, after a warm-up pass.

    Returns:
        dict: ``graph_ms`` (the node times of one frame, mean over the
        passes), ``graph_runs`` (graph runs per frame: windows), and
        ``op_types``: the ``top`` operator types by share of the node
        time (percent), the rest summed as ``other``.
    """
    import onnxruntime
    inferencer = build_inferencer('ort-fp32', config, None,
                                  {'ort-fp32': {'file': path}})
    network = inferencer.model.deployed_network
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = osp.splitext(path)[0] + '_profile'
    inferencer([frame], batch_size=1)  # warm-up, unprofiled
    network.session = onnxruntime.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])
    for _ in range(runs):
        inferencer([frame], batch_size=1)
    with open(network.session.end_profiling()) as handle:
        events = json.load(handle)
    per_type = {}
    for event in events:
        if event.get('cat') == 'Node' and event['name'].endswith(
                '_kernel_time'):
            op_type = event['args']['op_name']
            per_type[op_type] = per_type.get(op_type, 0) + event['dur']
    graph_runs = sum(1 for e in events if e.get('name') == 'model_run')
    total = sum(per_type.values())
    ranked = sorted(per_type.items(), key=lambda item: -item[1])
    shares = {op: round(100 * us / total, 1) for op, us in ranked[:top]}
    if len(ranked) > top:
        shares['other'] = round(100 * sum(us for _, us in ranked[top:]) /
                                total, 1)
    return dict(graph_ms=round(total / 1e3 / runs, 2),
                graph_runs=graph_runs // runs, op_types=shares)


def add_speedups(rows):
    """Each row's ``speedup_vs_fp32``: its frames/s over that of the
    ``pytorch-fp32`` row of the same model and size (None when either has
    no speed), and its goal (:data:`SPEED_GOALS`)."""
    reference = {(r.get('model'), tuple(r['size'])): r for r in rows
                 if r['backend'] == REFERENCE}
    for row in rows:
        ref = reference.get((row.get('model'), tuple(row['size'])))
        fps = row.get('frames_per_second')
        ref_fps = ref.get('frames_per_second') if ref else None
        row['speedup_vs_fp32'] = (fps / ref_fps if fps and ref_fps
                                  else None)
        if row['backend'] in SPEED_GOALS:
            row['goal'] = speed_goal(row['backend'], row['speedup_vs_fp32'])
    return rows


def speed_goal(backend, speedup) -> dict:
    goal = SPEED_GOALS[backend]
    if speedup is None:
        return dict(goal=f'>= {goal}x', met=None, by=None)
    return dict(goal=f'>= {goal}x', value=speedup, met=speedup >= goal,
                by=speedup - goal)


# --- accuracy -------------------------------------------------------------

def score(backend, config, checkpoint, graphs, work_dir, log):
    """IoU / nIoU / Pd / Fa of one backend by ``tools/test.py``."""
    from tools import test as test_tool
    out = osp.join(work_dir, f'metrics_{backend}.json')
    argv = [config, '--work-dir', osp.join(work_dir, f'test_{backend}'),
            '--out', out, '--force', '--curve-points', '1']
    if backend.startswith('pytorch'):
        argv[1:1] = [checkpoint]
        argv += ['--amp'] if backend == 'pytorch-bf16' else []
    else:
        graph = graphs.get(backend, {})
        if 'file' not in graph:
            return dict(backend=backend,
                        error=graph.get('error', 'no graph'))
        argv += ['--backend', 'onnxruntime', '--onnx', graph['file']]
    error = call_tool(test_tool.main, argv, log)
    if error:
        return dict(backend=backend, error=error)
    with open(out) as handle:
        result = json.load(handle)
    metrics = {key.rpartition('/')[2]: value
               for key, value in result['metrics'].items()}
    return dict(backend=backend, decision_rule=result['decision_rule'],
                **{key: metrics[key] for key in METRICS},
                num_images=metrics.get('num_images'))


def add_metric_deltas(rows):
    """Each row's difference to the ``pytorch-fp32`` row of the same model
    (IoU, nIoU, Pd in points, Fa in 1e-6) and its goal (within
    :data:`IOU_POINTS` IoU points and :data:`PD_POINTS` Pd points)."""
    reference = {r.get('model'): r for r in rows
                 if r['backend'] == REFERENCE and 'error' not in r}
    for row in rows:
        ref = reference.get(row.get('model'))
        if ref is None or 'error' in row:
            row['delta_vs_fp32'] = None
        else:
            row['delta_vs_fp32'] = {
                key: (row[key] - ref[key]) * (1 if key == 'Fa' else 100)
                for key in METRICS}
        if row['backend'] != REFERENCE:
            row['goal'] = metric_goal(row['delta_vs_fp32'])
    return rows


def metric_goal(delta) -> dict:
    goal = f'|dIoU| <= {IOU_POINTS}, |dPd| <= {PD_POINTS} points'
    if delta is None:
        return dict(goal=goal, met=None, by=None)
    # margin: the smaller slack of the two (negative: missed by that much)
    by = min(IOU_POINTS - abs(delta['IoU']), PD_POINTS - abs(delta['Pd']))
    return dict(goal=goal, abs_dIoU=abs(delta['IoU']),
                abs_dPd=abs(delta['Pd']), met=by >= 0, by=by)


# --- end to end: video ----------------------------------------------------

def write_clip(path, size=VIDEO_SIZE, num_frames=100, fps=25):
    """An MJPG clip of ``size`` (width, height): bright dots moving on a
    dim noisy background."""
    import cv2
    import numpy as np
    width, height = size
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path}')
    rng = np.random.default_rng(0)
    background = rng.integers(10, 50, (height, width, 1), dtype=np.uint8)
    for i in range(num_frames):
        frame = np.repeat(background, 3, axis=2)
        cv2.circle(frame, ((8 + 5 * i) % (width - 16) + 8, height // 3), 2,
                   (255, 255, 255), -1)
        cv2.circle(frame, (width // 2, (8 + 3 * i) % (height - 16) + 8), 1,
                   (220, 220, 220), -1)
        writer.write(frame)
    writer.release()
    return path


def video_fps(config, checkpoint, clip, out_dir, threads, timeout=1800):
    """frames/s that ``tools/infer.py CONFIG CKPT clip --save-video``
    prints (a fresh process with ``threads`` threads); raises why not."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONPATH=REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'infer.py'), config,
         checkpoint, clip, '--out-dir', out_dir, '--save-video',
         'overlay.avi'], cwd=REPO_ROOT, env=env, capture_output=True,
        text=True, timeout=timeout)
    found = SUMMARY.search(proc.stdout)
    if proc.returncode or not found:
        lines = [line for line in (proc.stderr + proc.stdout).splitlines()
                 if 'error' in line.lower()]
        raise RuntimeError(first_line(lines[0] if lines else
                                      f'exit status {proc.returncode}'))
    return float(found[3])


def video_row(model, clip, tmp, runs, threads) -> dict:
    """The end-to-end row of ``model``: median frames/s of ``runs`` runs."""
    row = dict(model=model['name'], size=list(VIDEO_SIZE),
               save_video=True)
    rates = []
    try:
        for index in range(runs):
            rates.append(video_fps(
                model['config'], model['checkpoint'], clip,
                osp.join(tmp, f'video_{model["name"]}_{index}'), threads))
    except Exception as error:  # noqa: BLE001 (recorded in the row)
        row['error'] = first_line(error)
        return row
    row.update(frames_per_second_runs=rates,
               frames_per_second=statistics.median(rates))
    if is_video_goal_model(model):
        row['goal'] = dict(goal=f'>= {VIDEO_FPS_GOAL:g} frames/s',
                           value=row['frames_per_second'],
                           met=row['frames_per_second'] >= VIDEO_FPS_GOAL,
                           by=row['frames_per_second'] - VIDEO_FPS_GOAL)
    return row


def is_video_goal_model(model) -> bool:
    text = (model['name'] + ' ' + osp.basename(model['config'])).lower()
    return any(key in text for key in VIDEO_GOAL_MODELS)


# --- one model ------------------------------------------------------------

def run_model(model, args, tmp) -> dict:
    """Export, quantize, time and score one model; its record."""
    import torch
    name = model['name']
    folder = osp.join(tmp, name)
    os.makedirs(folder, exist_ok=True)
    log = osp.join(folder, 'tools.log')
    record = dict(model=name, config=model['config'],
                  checkpoint=model['checkpoint'],
                  weights='checkpoint' if model['checkpoint'] else 'random')
    torch.set_num_threads(args.threads)
    if model['checkpoint'] is None:
        model['checkpoint'] = random_checkpoint(
            model['config'], osp.join(folder, 'random.pth'))
    config = test_set_config(model['config'], args.data_root,
                             osp.join(folder, 'config.py'))
    checkpoint = model['checkpoint']
    from mmengine.config import Config
    crop = Config.fromfile(config).get('crop_size', (256, 256))
    side = max(crop)
    graphs = {'ort-fp32': export_graph(
        config, checkpoint, osp.join(folder, 'fp32.onnx'), args.exporter,
        (side, side), args.atol, log)}
    if 'file' in graphs['ort-fp32']:
        graphs['ort-int8'] = quantize_graph(
            config, graphs['ort-fp32']['file'],
            osp.join(folder, 'int8.onnx'),
            args.calib_dir or osp.join(args.data_root, 'trainval', 'images'),
            args.num_calib, log)
    else:
        graphs['ort-int8'] = dict(error='no float32 graph: '
                                  + graphs['ort-fp32']['error'])
    torch.set_num_threads(args.threads)
    record['graphs'] = {k: {key: v for key, v in g.items() if key != 'file'}
                        for k, g in graphs.items()}
    inferencers = {}
    for backend in args.backends:
        torch.set_num_threads(args.threads)  # onnxruntime takes torch's
        graph = graphs.get(backend)
        if graph is not None and 'file' not in graph:
            inferencers[backend] = graph['error']
            continue
        try:
            with captured(log):
                inferencers[backend] = build_inferencer(
                    backend, config, checkpoint, graphs)
        except Exception as error:  # noqa: BLE001 (recorded in the row)
            inferencers[backend] = first_line(error)
    frames = {size: write_frames(osp.join(tmp, f'frames_{size_name(size)}'),
                                 size, args.frames) for size in args.sizes}
    with captured(log):
        speed = measure_speed(inferencers, frames, args.runs, args.threads)
    del inferencers
    for row in speed:
        row['model'] = name
    record['speed'] = add_speedups(speed)
    # where the time goes, at the first size: the graphs' operators, and
    # the share of a frame's time outside the graph (reading,
    # preprocessing, decision rule, target list)
    record['profile'] = []
    for backend in ('ort-fp32', 'ort-int8'):
        frame_row = [r for r in speed if r['backend'] == backend
                     and tuple(r['size']) == tuple(args.sizes[0])]
        if (backend not in args.backends or not frame_row
                or 'error' in frame_row[0]):
            continue
        try:
            with captured(log):
                profile = profile_graph(config, graphs[backend]['file'],
                                        frames[args.sizes[0]][0],
                                        args.threads)
        except Exception as error:  # noqa: BLE001 (recorded in the row)
            profile = dict(error=first_line(error))
        if 'graph_ms' in profile:
            frame_ms = 1e3 * frame_row[0]['median_s'] / frame_row[0]['frames']
            profile['frame_ms'] = round(frame_ms, 2)
            profile['outside_graph_percent'] = round(
                max(0.0, 100 * (1 - profile['graph_ms'] / frame_ms)), 1)
        record['profile'].append(dict(model=name, backend=backend,
                                      size=list(args.sizes[0]), **profile))
    metrics = []
    if args.no_metrics:
        pass
    elif not osp.isdir(osp.join(args.data_root, 'test', 'images')):
        metrics = [dict(backend=b, error=f'no test split at '
                        f'{args.data_root}/test/images (--data-root)')
                   for b in args.backends]
    else:
        for backend in args.backends:
            torch.set_num_threads(args.threads)
            metrics.append(score(backend, config, checkpoint, graphs,
                                 folder, log))
    for row in metrics:
        row['model'] = name
    record['metrics'] = add_metric_deltas(metrics)
    return record


# --- printing -------------------------------------------------------------

def goal_text(goal) -> str:
    """'met: ...' or 'MISSED: ... by ...' for a row's goal dict."""
    if not goal:
        return '-'
    if goal['met'] is None:
        return f'{goal["goal"]}: not measured'
    if 'IoU' in goal['goal']:  # the accuracy goal
        text = (f'|dIoU| {goal["abs_dIoU"]:.2f} / {IOU_POINTS}, |dPd| '
                f'{goal["abs_dPd"]:.2f} / {PD_POINTS} pt')
        return (f'met: {text}' if goal['met'] else
                f'MISSED by {-goal["by"]:.2f} pt: {text}')
    unit = 'x' if goal['goal'].endswith('x') else ' frames/s'
    if goal['met']:
        return (f'met: {goal["value"]:.2f}{unit} {goal["goal"]} '
                f'(+{goal["by"]:.2f})')
    return (f'MISSED by {-goal["by"]:.2f}{unit}: {goal["value"]:.2f}{unit}, '
            f'goal {goal["goal"]}')


def speed_table(records) -> list:
    lines = ['| model | size | backend | frames/s | vs fp32 | goal |',
             '|---|---|---|---|---|---|']
    for record in records:
        for row in record.get('speed', []):
            head = f'| {row["model"]} | {size_name(row["size"])} | ' \
                   f'{row["backend"]} |'
            if 'error' in row:
                lines.append(f'{head} - | - | {row["error"]} |')
                continue
            speedup = row['speedup_vs_fp32']
            lines.append(
                f'{head} {row["frames_per_second"]:.2f} | '
                f'{"-" if speedup is None else f"{speedup:.2f}x"} | '
                f'{goal_text(row.get("goal"))} |')
    return lines


def metric_table(records) -> list:
    lines = ['| model | backend | IoU % | nIoU % | Pd % | Fa 1e-6 | '
             'dIoU | dnIoU | dPd | dFa | goal |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for record in records:
        for row in record.get('metrics', []):
            head = f'| {row["model"]} | {row["backend"]} |'
            if 'error' in row:
                lines.append(f'{head} - | - | - | - | - | - | - | - | '
                             f'{row["error"]} |')
                continue
            delta = row.get('delta_vs_fp32') or {}
            deltas = ' | '.join(
                f'{delta[k]:+.2f}' if k in delta else '-' for k in METRICS)
            lines.append(
                f'{head} {row["IoU"] * 100:.2f} | {row["nIoU"] * 100:.2f} | '
                f'{row["Pd"] * 100:.2f} | {row["Fa"]:.2f} | {deltas} | '
                f'{goal_text(row.get("goal"))} |')
    return lines


def video_table(rows) -> list:
    lines = ['| model | video | frames/s end to end | goal |',
             '|---|---|---|---|']
    for row in rows:
        head = f'| {row["model"]} | {size_name(row["size"])} |'
        if 'error' in row:
            lines.append(f'{head} - | {row["error"]} |')
        else:
            goal = (goal_text(row['goal']) if 'goal' in row
                    else f'- (goal is for {"/".join(VIDEO_GOAL_MODELS)})')
            lines.append(f'{head} {row["frames_per_second"]:.2f} | {goal} |')
    return lines


def graph_lines(records) -> list:
    lines = []
    for record in records:
        for backend, graph in record.get('graphs', {}).items():
            if 'error' in graph:
                text = f'failed: {graph["error"]}'
            elif backend == 'ort-fp32':
                text = (f'{graph["exporter"]} exporter, '
                        f'{"dynamic" if graph["dynamic"] else "static"}')
                if graph['tried']:
                    text += f' (after {"; ".join(graph["tried"])})'
            else:
                text = 'quantize_onnx.py'
            lines.append(f'- {record["model"]} {backend}: {text}')
    return lines


def profile_table(records) -> list:
    lines = ['| model | backend | size | graph ms | frame ms | outside the '
             'graph | operator types (% of graph time) |',
             '|---|---|---|---|---|---|---|']
    for record in records:
        for row in record.get('profile', []):
            if 'error' in row:
                lines.append(f'| {row["model"]} | {row["backend"]} | '
                             f'{size_name(row["size"])} | - | - | - | '
                             f'{row["error"]} |')
                continue
            ops = ', '.join(f'{op} {share}' for op, share in
                            row['op_types'].items())
            outside = row.get('outside_graph_percent')
            lines.append(
                f'| {row["model"]} | {row["backend"]} | '
                f'{size_name(row["size"])} | {row["graph_ms"]:.1f} '
                f'({row["graph_runs"]} run(s)) | '
                f'{row.get("frame_ms", "-")} | '
                f'{"-" if outside is None else f"{outside:.0f} %"} | '
                f'{ops} |')
    return lines


def print_tables(result) -> None:
    records = result['models']
    print(f'\nthreads {result["threads"]}, median of {result["runs"]} '
          f'runs of {result["frames"]} frames after a warm-up; '
          f'{result["machine"]}')
    for line in graph_lines(records):
        print(line)
    print('\nSpeed (IRSTDInferencer, batch 1):')
    print('\n'.join(speed_table(records)))
    if any(record.get('profile') for record in records):
        print('\nWhere the time goes (ONNX Runtime profiler, first size):')
        print('\n'.join(profile_table(records)))
    print(f'\nAccuracy on {result["data_root"]}/test (tools/test.py):')
    print('\n'.join(metric_table(records)))
    if result['video']:
        print('\nEnd to end (tools/infer.py VIDEO --save-video):')
        print('\n'.join(video_table(result['video'])))


# --- main -----------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', metavar='NAME|CONFIG[=CKPT]',
                        help='model-zoo names or configs with checkpoints '
                        '(default: every shipped model of model-index.yml)')
    parser.add_argument('--sizes', nargs='+', type=size_arg,
                        default=list(DEFAULT_SIZES), metavar='WxH',
                        help='frame sizes, width x height (default 640x512 '
                        '256x256)')
    parser.add_argument('--backends', nargs='+', choices=BACKENDS,
                        default=list(BACKENDS),
                        help='the backends to measure (default all; '
                        f'{REFERENCE} always, the others are compared to '
                        'it); e.g. without pytorch-bf16 on a CPU that '
                        'emulates bfloat16, where it is 30x slower')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--frames', type=int, default=8,
                        help='frames of a timed pass (default 8)')
    parser.add_argument('--data-root', default=osp.join(
        REPO_ROOT, 'datasets', 'SIRST'), help='test set '
        '<root>/test/{images,masks} (default datasets/SIRST)')
    parser.add_argument('--calib-dir', help='int8 calibration frames '
                        '(default <data-root>/trainval/images)')
    parser.add_argument('--num-calib', type=int, default=32,
                        help='calibration frames (default 32)')
    parser.add_argument('--exporter', nargs='+', default=['torchscript',
                                                          'dynamo'],
                        choices=('torchscript', 'dynamo'),
                        help='exporters tried in turn, dynamic first, then '
                        'static (default torchscript dynamo)')
    parser.add_argument('--atol', type=float, default=1e-3,
                        help="export_onnx.py's check (default 1e-3)")
    parser.add_argument('--no-metrics', action='store_true',
                        help='speed only')
    parser.add_argument('--video-models', nargs='*', metavar='NAME',
                        help='models (names as in the table) of the end-to-'
                        'end video row (default: those of ACM and ALCNet)')
    parser.add_argument('--video-frames', type=int, default=100)
    parser.add_argument('--work-dir', help='keep the graphs, the random '
                        'checkpoints and the tools\' logs (tools.log per '
                        'model) here (default: a temporary folder)')
    parser.add_argument('--out', default=osp.join(
        REPO_ROOT, 'benchmarks', 'results', 'deploy.json'))
    args = parser.parse_args(argv)
    args.backends = [b for b in BACKENDS
                     if b in args.backends or b == REFERENCE]
    if args.runs < 1 or args.frames < 1 or args.threads < 1:
        parser.error('--runs, --frames and --threads must be >= 1')
    return args


def default_models():
    zoo = zoo_models()
    if not zoo:
        raise SystemExit(
            'error: no model-index.yml (no shipped models): give the models '
            'with --models CONFIG[=CKPT] ...')
    return list(zoo)


def write_json(result, path) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path + '.tmp', 'w') as handle:
        json.dump(result, handle, indent=1)
    os.replace(path + '.tmp', path)


def main(argv=None) -> dict:
    args = parse_args(argv)
    import onnxruntime
    import torch
    models = [parse_model(spec) for spec in (args.models or
                                             default_models())]
    names = [m['name'] for m in models]
    video_names = (args.video_models if args.video_models is not None else
                   [m['name'] for m in models if is_video_goal_model(m)])
    unknown = sorted(set(video_names) - set(names))
    if unknown:
        raise SystemExit(f'error: --video-models {", ".join(unknown)} are '
                         f'not among the models ({", ".join(names)})')
    result = dict(
        machine=f'{platform.machine()}, {os.cpu_count()} cores, '
        f'{platform.processor() or platform.platform()}',
        torch=torch.__version__, onnxruntime=onnxruntime.__version__,
        backends=args.backends,
        threads=args.threads, runs=args.runs, warmup=1, frames=args.frames,
        sizes=[list(s) for s in args.sizes], data_root=args.data_root,
        goals=dict(speedup_vs_fp32=SPEED_GOALS, iou_points=IOU_POINTS,
                   pd_points=PD_POINTS,
                   video_frames_per_second=VIDEO_FPS_GOAL),
        load_average=list(os.getloadavg()), models=[], video=[])
    with contextlib.ExitStack() as stack:
        if args.work_dir:
            os.makedirs(args.work_dir, exist_ok=True)
            tmp = osp.abspath(args.work_dir)
        else:
            tmp = stack.enter_context(
                tempfile.TemporaryDirectory(prefix='deploy_'))
        for model in models:
            print(f'{model["name"]}: export, quantize, time, score ...',
                  flush=True)
            record = run_model(model, args, tmp)
            result['models'].append(record)
            write_json(result, args.out)
        if video_names:
            clip = write_clip(osp.join(tmp, 'clip_640x512.avi'),
                              num_frames=args.video_frames)
            for model in models:
                if model['name'] in video_names:
                    print(f'{model["name"]}: video ...', flush=True)
                    result['video'].append(video_row(
                        model, clip, tmp, args.runs, args.threads))
                    write_json(result, args.out)
    print_tables(result)
    print(f'\nwritten to {args.out}')
    return result


if __name__ == '__main__':
    main()
