"""What the verification scripts print and write: JSON files (atomic, numpy
values made plain) and the tables of each command."""
import json
import math
import os
import os.path as osp

import numpy as np

from .pipelines import VARIANT_LABELS
from .scoring import REPORTED, SCORINGS


def write_json_atomic(path: str, data: dict) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)


def jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer, )):
        return int(obj)
    if isinstance(obj, (np.floating, )):
        return float(obj)
    if isinstance(obj, (np.bool_, )):
        return bool(obj)
    return obj


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def print_step_report(result: dict) -> None:
    name = result['model']
    print(f'\n== {name}: {result["steps"]} steps, {result["size"]}x'
          f'{result["size"]}, batch {result["batch"]}, epoch = '
          f'{result["epoch_len"]} iterations, schedule {result["schedule"]},'
          f' {result["dtype"]}')
    print(f'official {result["official_optimizer"][0]} '
          f'{result["official_optimizer"][1]}')
    print(f'ours     {result["our_optimizer"][0]} '
          f'{result["our_optimizer"][1]}')
    header = (f'{"step":>4} {"epoch":>5} {"official loss":>22} '
              f'{"our loss":>22} {"|diff|":>9} {"official lr":>12} '
              f'{"our lr":>12} {"|lr diff|":>9}')
    print(header)
    for r in result['per_step']:
        print(f'{r["step"]:>4} {r["epoch"]:>5} {r["official_loss"]:>22.17g} '
              f'{r["our_loss"]:>22.17g} {r["loss_abs_diff"]:>9.2e} '
              f'{r["official_lr"]:>12.6g} {r["our_lr"]:>12.6g} '
              f'{r["lr_abs_diff"]:>9.2e}')
    print(f'max |loss diff| {result["max_loss_abs_diff"]:.3e} (relative '
          f'{result["max_loss_rel_diff"]:.3e}), max |lr diff| '
          f'{result["max_lr_abs_diff"]:.3e}')
    print(f'after {result["steps"]} steps, ours vs official:')
    _print_states(result['final'])
    floor = result.get('official_noise_floor')
    if floor:
        print(f'official vs official with {floor["threads"]} threads '
              f'(rounding scale): max |loss diff| '
              f'{floor["max_loss_abs_diff"]:.3e}')
        _print_states(floor['final'])
    for k, fp in result['fingerprint_difference'].items():
        print(f'  fingerprints after {k} steps: max difference '
              f'{fp["max_rel"]:.3e} of the sum of |x| ({fp["worst_key"]})')
    paper = result['paper_schedule']
    print(f'paper schedule {paper["settings"]}: max |lr diff| over '
          f'{paper["epochs"]} epochs {paper["max_lr_abs_diff"]:.3e}')
    for row in result.get('bce_saturation_float32', []):
        print(f'  loss on one pixel, logit {row["logit"]:>4g}, target 0 '
              f'(float32): official {row["official_loss"]:.6g} (gradient '
              f'{row["official_grad"]:.3g}), ours {row["our_loss"]:.6g} '
              f'(gradient {row["our_grad"]:.3g})')
    wall = result['wall_s']
    print(f'wall: official {wall["official"]:.1f} s, ours '
          f'{wall["ours"]:.1f} s, total {wall["total"]:.1f} s')
    if 'ci_data' in result:
        print(f'wrote {result["ci_data"]}')


def _print_states(summary: dict) -> None:
    for group, s in summary.items():
        print(f'  {group:<25} {s["count"]:>4} tensors: max abs '
              f'{s["max_abs"]:.3e} ({s["worst_abs_key"]}), max rel '
              f'{s["max_rel"]:.3e} ({s["worst_rel_key"]}); moved by training '
              f'up to {s["max_moved"]:.3e}')


def print_drift(report: dict) -> None:
    floor = f'official, {report["noise_floor_threads"]} threads'
    print(f'\n{report["model"]} seed {report["seed"]}: {report["steps"]} '
          f'steps of batch {report["batch"]}, float32, the same weights and '
          'real batches on each side')
    for name, side in report['sides'].items():
        probe = side['probe']
        print(f'  {name:<22} loss by quarter '
              + ' '.join(f'{v:.4f}' for v in side['loss_window_means'])
              + f'; probe IoU {probe["scores"]["threshold_0.5"]["IoU"]:.4f},'
              f' pixels > 0.5 {probe["positive_share"]:.2e}, mean max p '
              f'{probe["mean_max"]:.4f} ({side["seconds"] / 60:.1f} min)')
    for title, key in (('ours vs official', 'ours_vs_official'),
                       (f'{floor} vs official', 'official_vs_itself')):
        diff = report[key]
        print(f'  {title}: mean loss difference by quarter '
              + ' '.join(f'{v:+.4f}' for v in diff['loss_diff_window_means'])
              + ', mean |difference| '
              + ' '.join(f'{v:.4f}' for v in diff['loss_abs_diff_window_means']))
        print('    weight fingerprints apart (relative to sum |x|): '
              + ', '.join(f'step {k} {v["max_rel"]:.1e}' for k, v in
                          diff['fingerprint_difference'].items()))
        print(f'    probe: max probability difference '
              f'{diff["probe_max_probability_diff"]:.3e}, overlap of the '
              f'pixels > 0.5 {diff["probe_positive_overlap"]:.3f}')
    for title, key in (('ours', 'ours'), (floor, 'official_itself')):
        print(f'  final weights, {title} vs official:')
        for group, s in report['final_states'][key].items():
            print(f'    {group:<25} {s["count"]:>4} tensors: max rel '
                  f'{s["max_rel"]:.3e} ({s["worst_rel_key"]})')


def _fmt(stat: dict, scale: float = 1.0, digits: int = 3) -> str:
    if math.isnan(stat['std']):
        return f'{stat["mean"] * scale:.{digits}f}'
    return (f'{stat["mean"] * scale:.{digits}f} ± '
            f'{stat["std"] * scale:.{digits}f}')


def print_table(model: str, sides: dict) -> None:
    print(f'\n{model}: mean ± std over seeds')
    print('| side | scoring | seeds | ' + ' | '.join(REPORTED) +
          ' | train min | test s |')
    print('|---' * (len(REPORTED) + 5) + '|')
    for side, entry in sides.items():
        for scoring in SCORINGS:
            cells = [_fmt(entry[scoring][key], digits=1 if key == 'Fa'
                          else 3) for key in REPORTED]
            print(f'| {side} | {scoring} | {len(entry["seeds"])} | ' +
                  ' | '.join(cells) +
                  f' | {_fmt(entry["train_seconds"], 1 / 60, 1)} | '
                  f'{_fmt(entry["test_seconds"], 1, 0)} |')


def fmt(v, digits=3):
    if v is None:
        return '-'
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4):
            return f'{v:.2e}'
        return f'{v:.{digits}f}'
    return str(v)


def print_case(name: str, res: dict) -> None:
    print(f'\n=== {name}')
    print(f'official: {res["official"]}')
    print(f'ours:     {res["config"]}  ({" > ".join(res["pipeline_ours"])})')
    if 'color_type' in res:
        print(f'frames read as {res["color_type"]}; {len(res["images"])} '
              f'images, {res["images_with_colour"]} with channels that '
              'differ')
    if 'distributions' in res:
        print('\n| parameter | n off/ours | mean off | mean ours | '
              'q05/q50/q95 off | q05/q50/q95 ours | KS D | p | '
              'p vs law off/ours |')
        print('|---|---|---|---|---|---|---|---|---|')
        for key, d in res['distributions'].items():
            o, u = d['official'], d['ours']
            if not o.get('n') or not u.get('n'):
                continue
            qo = '/'.join(fmt(o['quantiles'][str(q)], 2)
                          for q in (0.05, 0.5, 0.95))
            qu = '/'.join(fmt(u['quantiles'][str(q)], 2)
                          for q in (0.05, 0.5, 0.95))
            law = (f'{fmt(d["law_pvalue"]["official"])}/'
                   f'{fmt(d["law_pvalue"]["ours"])} ({d["law"]})'
                   if 'law' in d else '-')
            print(f'| {key} | {o["n"]}/{u["n"]} | {fmt(o["mean"])} | '
                  f'{fmt(u["mean"])} | {qo} | {qu} | {fmt(d["ks"])} | '
                  f'{fmt(d["ks_pvalue"])} | {law} |')
    if 'random_draws' in res:
        print(f'random draws: {res["random_draws"]}')
    out = res.get('outputs')
    if out:
        for side in ('official', 'ours'):
            s = out[side]
            print(f'{side:8s} output: shapes {s["shapes"]}, {s["dtypes"]}, '
                  f'image range [{fmt(s["img_range"][0])}, '
                  f'{fmt(s["img_range"][1])}], mask values '
                  f'{s["mask_values"]}')
    n = res['normalisation']
    print(f'normalisation (mean, std on 0-255): official {n["official"]} '
          f'ours {n["ours"]}; max |error| {fmt(n.get("max_abs_error"))}')
    for key, label in VARIANT_LABELS.items():
        if key not in res:
            continue
        e = res[key]
        print(f'pixel-exact, {label}: {e["samples"]} samples, '
              f'{e.get("samples_bit_exact")} bit-exact, '
              f'{e.get("samples_within_1e-4")} within 1e-4; image max '
              f'|diff| {fmt(e.get("img_max_abs"))} '
              f'({fmt(e.get("img_max_gray_levels"))} gray levels), '
              f'{e.get("img_pixels_differing")} pixels > 1e-4; mask pixels '
              f'differing {e.get("mask_pixels_differing")}'
              + (f'; coverage {e["coverage"]}' if 'coverage' in e else ''))
