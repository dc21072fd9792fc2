"""The cases of ``augmentation_parity.py``: per model and data set the
official training data code against our pipeline (distributions of the
drawn parameters, pixel-exact by replay), the DATransNet loaders compared
directly, the references' test resize, and the run over all of them."""
import contextlib
import json
import os
import os.path as osp
import tempfile
import time
from typing import List

import cv2
import numpy as np
import torch
from PIL import Image

from . import REPO_ROOT
from .data_hooks import (NumpyRandom, ParityError, PyRandomRecorder,
                         recording_module_random, rng_states, same_states)
from .draws import (bernoulli_law, compare_values, describe,
                    parse_official_nudt_samspl, parse_official_sync,
                    parse_ours_nudt_samspl, parse_ours_sync,
                    script_from_official_nudt_samspl,
                    script_from_official_sync, sync_param_series,
                    uniform_int_law, uniform_law)
from .image_checks import (colour_images, config_color_type, loader_check,
                           ops_check, select_images)
from .official_data import official_bank_for_ours, samspl_folder
from .pipelines import (VARIANTS, OutputStats, affine_constants, build_ours,
                        compare_pixels, former_cv2_ops, normalisation_error,
                        run_ours, summarise_exact)
from .references import load_official
from .reports import jsonable, print_case


# base size of the op check per dataset (SeRankDet's configs)
OPS_BASE = {'SIRST': 512, 'NUDT-SIRST': 256}


RNG_NOTE = {
    'sync': 'official: Python random (random.random / randint); ours: '
    'numpy.random (choice / randint / rand / uniform), crop offsets drawn '
    'h before w (official: x before y), copy-paste count drawn before the '
    'dice (ours: after): no common seeding, so the official draws are '
    'replayed into our pipeline',
    'datransnet': 'no random augmentation on either side: outputs compared '
    'directly',
    'test_resize': 'deterministic test transform: outputs compared directly',
}


def run_sync_case(case: dict, args, tmp) -> dict:
    """A SeRankDet / SAM-SPL case: flip, rescale, pad, crop, blur (and
    copy-paste), official parameters parsed from the logs."""
    module = case['module']
    copy_paste = case.get('copy_paste', False)
    nudt = case.get('nudt_samspl', False)
    data_root = case['data_root']
    stems = case['stems']
    off_ds = case['official_dataset']()
    off_index = case['official_index'](off_ds)
    ours, pre, our_index, cfg = build_ours(case['config'], data_root,
                                           case.get('bank'))
    std255 = (pre.std * 255).flatten().tolist()
    sizes = {s: Image.open(osp.join(data_root, 'trainval', 'images',
                                    s + '.png')).size for s in stems}

    def official_sample(stem, seed):
        rec = PyRandomRecorder(seed)
        before = rng_states()
        with recording_module_random(module, rec):
            out = off_ds[off_index[stem]]
        if not same_states(before, rng_states()):
            raise ParityError('official code drew from a global generator')
        return out[0], out[1], rec.log

    def parse_off(log):
        return (parse_official_nudt_samspl(log) if nudt else
                parse_official_sync(log, copy_paste))

    def parse_our(log):
        return (parse_ours_nudt_samspl(log) if nudt else
                parse_ours_sync(log, copy_paste))

    result = dict(config=case['config'], official=case['official_desc'],
                  images=stems, data_root=data_root,
                  color_type=config_color_type(case['config']),
                  images_with_colour=colour_images(data_root, stems))
    # a. distributions
    if args.draws and case.get('distributions', True):
        t0 = time.time()
        # each side one generator seeded once, then draws in sequence
        off_params, our_params, longs = [], [], []
        off_stats, our_stats = OutputStats(), OutputStats()
        off_rec = PyRandomRecorder(args.seed)
        our_rng = NumpyRandom(args.seed)
        for i in range(args.draws):
            stem = stems[i % len(stems)]
            w, h = sizes[stem]
            longs.append(max(w, h))
            off_rec.log.clear()
            with recording_module_random(module, off_rec):
                oimg, omask = off_ds[off_index[stem]][:2]
            off_params.append(parse_off(off_rec.log))
            off_stats.add(oimg, omask)
            our_rng.log.clear()
            img, mask, _ = run_ours(ours, pre, our_index[stem], our_rng)
            our_params.append(parse_our(our_rng.log))
            our_stats.add(img, mask)
        laws = {k: bernoulli_law() for k in ('flip', 'blur', 'paste',
                                             'vflip', 'hflip', 'transpose')}
        if nudt:
            keys = ('vflip', 'hflip', 'transpose')
            so = {k: [float(p[k]) for p in off_params] for k in keys}
            su = {k: [float(p[k]) for p in our_params] for k in keys}
            result['official_crop_loop_draws'] = describe(
                [p['crop_loops'] for p in off_params])
        else:
            so = sync_param_series(off_params, longs, copy_paste)
            su = sync_param_series(our_params, longs, copy_paste)
            result['long_side_range'] = dict(
                official=list(off_params[0]['long_range']),
                ours=list(our_params[0]['long_range']))
            laws['long_side'] = uniform_int_law(
                *off_params[0]['long_range'])
            laws['radius'] = uniform_law()
            laws['paste_count'] = uniform_int_law(1, 100)
        result['distributions'] = {k: compare_values(so[k], su[k],
                                                     laws.get(k))
                                   for k in so}
        result['outputs'] = dict(official=off_stats.as_dict(),
                                 ours=our_stats.as_dict())
        result['distribution_seconds'] = time.time() - t0
    # b. pixel-exact by replay
    t0 = time.time()
    rows = {key: [] for key in VARIANTS}
    coverage = {}
    for j in range(args.exact_samples):
        stem = stems[j % len(stems)]
        seed = 1000 + j
        oimg, omask, log = official_sample(stem, seed)
        p = parse_off(log)
        for key in ('flip', 'blur', 'paste', 'vflip', 'hflip', 'transpose'):
            if key in p:
                coverage[key] = coverage.get(key, 0) + int(p[key])
        script = (script_from_official_nudt_samspl(p) if nudt else
                  script_from_official_sync(p, copy_paste))
        row = dict(image=stem, seed=seed)
        for key, make_ctx in VARIANTS.items():
            if key != 'exact' and nudt:
                continue  # neither resize nor blur in this pipeline
            rng = NumpyRandom(script=script)
            with make_ctx():
                img, mask, _ = run_ours(ours, pre, our_index[stem], rng)
            if rng.leftover():
                raise ParityError(f'{rng.leftover()} official draws unused')
            rows[key].append(
                dict(row, **compare_pixels(oimg, omask, img, mask, std255)))
    for key, sample_rows in rows.items():
        if sample_rows:
            result[key] = summarise_exact(sample_rows)
            result[key]['per_sample'] = sample_rows
    result['exact']['coverage'] = coverage
    result['exact_seconds'] = time.time() - t0
    # normalisation constants
    result['normalisation'] = dict(
        official=case['official_norm'](off_ds),
        ours=affine_constants((pre.mean * 255).flatten().tolist(),
                              (pre.std * 255).flatten().tolist()))
    ours_n = result['normalisation']['ours']
    off_n = result['normalisation']['official']
    if len(off_n) == len(ours_n):
        result['normalisation']['max_abs_error'] = normalisation_error(
            off_n, ours_n)
    result['pipeline_ours'] = [t['type'] for t in
                               cfg.train_dataloader.dataset.pipeline]
    return result


def run_datransnet_case(case: dict, args, tmp) -> dict:
    """DATransNet: no random augmentation; the whole output compared."""
    module = case['module']
    data_root = case['data_root']
    stems = case['stems']
    base = osp.join(tmp, 'datransnet')
    os.makedirs(osp.join(base, 'img_idx'), exist_ok=True)
    for sub in ('images', 'masks'):
        link = osp.join(base, sub)
        if not osp.exists(link):
            os.symlink(osp.abspath(osp.join(data_root, 'trainval', sub)),
                       link)
    for fname in ('train_NUDT-SIRST.txt', 'train_IRSTD-1K.txt'):
        with open(osp.join(base, 'img_idx', fname), 'w') as f:
            f.write('\n'.join(stems) + '\n')
    off_ds = getattr(module, case['loader'])(base_dir=base, mode='trainval')
    ours, pre, our_index, cfg = build_ours(case['config'], data_root)
    t0 = time.time()
    rows, draws = [], dict(official=0, ours=0)
    off_stats, our_stats = OutputStats(), OutputStats()
    for i, stem in enumerate(stems):
        before = rng_states()
        oimg, omask = off_ds[i]
        if not same_states(before, rng_states()):
            draws['official'] += 1
        rng = NumpyRandom(0)
        img, mask, _ = run_ours(ours, pre, our_index[stem], rng)
        draws['ours'] += len(rng.log)
        off_stats.add(oimg, omask)
        our_stats.add(img, mask)
        rows.append(dict(image=stem, **compare_pixels(
            oimg, omask, img, mask, (pre.std * 255).flatten().tolist())))
    result = dict(config=case['config'], official=case['official_desc'],
                  images=stems, data_root=data_root,
                  random_draws=draws,
                  outputs=dict(official=off_stats.as_dict(),
                               ours=our_stats.as_dict()),
                  exact=summarise_exact(rows),
                  normalisation=dict(
                      official=[[0.0, 255.0]],
                      ours=affine_constants(
                          (pre.mean * 255).flatten().tolist(),
                          (pre.std * 255).flatten().tolist())),
                  pipeline_ours=[t['type'] for t in
                                 cfg.train_dataloader.dataset.pipeline])
    result['normalisation']['max_abs_error'] = normalisation_error(
        result['normalisation']['official'], result['normalisation']['ours'])
    result['exact']['per_sample'] = rows
    result['exact_seconds'] = time.time() - t0
    return result


def run_test_resize_case(case: dict, args, tmp) -> dict:
    """The references' test resize (SeRankDet ``DatasetLoad(mode='test')``)
    against our ``legacy_test_pipeline`` (``LegacyTestResize``)."""
    from mmengine.config import Config

    from serankdet.registry import DATASETS, MODELS
    module, root, base = case['module'], case['data_root'], case['base']
    color_type = config_color_type(case['config'])
    stems = select_images(root, args.images, 'test',
                          gray_only=color_type == 'gray')
    off_ds = module.DatasetLoad(data_root=root, base_size=base,
                                crop_size=base, mode='test',
                                train_dir='trainval', test_dir='test',
                                data_aug=True, suffix='png')
    off_index = {osp.splitext(n)[0]: i for i, n in
                 enumerate(off_ds.img_names)}
    cfg = Config.fromfile(osp.join(REPO_ROOT, case['config']))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = root
    ds_cfg.pipeline = cfg.legacy_test_pipeline
    ours = DATASETS.build(ds_cfg)
    pre = MODELS.build(cfg.model.data_preprocessor)
    our_index = {osp.splitext(osp.basename(ours.get_data_info(i)[
        'img_path']))[0]: i for i in range(len(ours))}
    std255 = (pre.std * 255).flatten().tolist()
    rows = {'exact': [], 'exact_former_cv2_resize': []}
    t0 = time.time()
    for stem in stems:
        oimg, omask = off_ds[off_index[stem]]
        for key in rows:
            ctx = (former_cv2_ops(blur=False) if key != 'exact' else
                   contextlib.nullcontext())
            with ctx:
                packed = ours[our_index[stem]]
            out = pre(dict(inputs=[packed['inputs']],
                           data_samples=[packed['data_samples']]))
            img = out['inputs'][0]
            mask = out['data_samples'][0].gt_sem_seg.data
            rows[key].append(dict(image=stem, **compare_pixels(
                oimg, omask, img, mask, std255)))
    norm = off_ds.rgb_transform.transforms[1]
    result = dict(config=case['config'] + ' (legacy_test_pipeline)',
                  official=case['official_desc'], images=stems,
                  data_root=root, color_type=color_type,
                  images_with_colour=colour_images(root, stems, 'test'),
                  normalisation=dict(
                      official=affine_constants(
                          [m * 255 for m in norm.mean],
                          [s * 255 for s in norm.std]),
                      ours=affine_constants(
                          (pre.mean * 255).flatten().tolist(), std255)),
                  pipeline_ours=[t['type'] for t in ds_cfg.pipeline])
    result['normalisation']['max_abs_error'] = normalisation_error(
        result['normalisation']['official'], result['normalisation']['ours'])
    for key, sample_rows in rows.items():
        result[key] = summarise_exact(sample_rows)
        result[key]['per_sample'] = sample_rows
    result['exact_seconds'] = time.time() - t0
    return result


def make_cases(args, refs, data, modules, tmp) -> List[dict]:
    cases = []
    n_img = args.images
    # gray configs on frames with gray content, RGB configs on all frames
    sel = {name: select_images(root, n_img) for name, root in data.items()}
    sel_all = {name: select_images(root, n_img, gray_only=False)
               for name, root in data.items()}

    def stems_for(config, name):
        return (sel_all if config_color_type(config) == 'rgb' else
                sel)[name]
    if 'serankdet' in modules:
        mod = modules['serankdet']

        def serankdet_case(ds_name, config, base, mod=mod):
            root = data[ds_name]

            def dataset():
                return mod.DatasetLoad(
                    data_root=root, base_size=base, crop_size=base,
                    mode='train', train_dir='trainval', test_dir='test',
                    data_aug=True, suffix='png')

            return dict(
                name=f'serankdet/{ds_name}', kind='sync', module=mod,
                config=config, data_root=root,
                stems=stems_for(config, ds_name),
                official_desc=f'SeRankDet utils/data.py DatasetLoad('
                f'base_size={base}, crop_size={base}, mode="train")',
                official_dataset=dataset,
                official_index=lambda ds: {osp.splitext(n)[0]: i for i, n
                                           in enumerate(ds.img_names)},
                official_norm=lambda ds: affine_constants(
                    [m * 255 for m in ds.rgb_transform.transforms[1].mean],
                    [s * 255 for s in ds.rgb_transform.transforms[1].std]))

        if 'SIRST' in data:
            cases.append(serankdet_case(
                'SIRST', 'configs/serankdet/serankdet_1xb4-1500e_sirst-'
                '512x512.py', 512))
            cases.append(dict(
                name='serankdet/SIRST test resize', kind='test_resize',
                module=mod, base=512, data_root=data['SIRST'],
                config='configs/serankdet/serankdet_1xb4-1500e_sirst-'
                '512x512.py',
                official_desc='SeRankDet utils/data.py DatasetLoad('
                'base_size=512, mode="test")'))
        if 'NUDT-SIRST' in data:
            cases.append(serankdet_case(
                'NUDT-SIRST', 'configs/serankdet/serankdet_1xb8-1500e_nudt-'
                'sirst-256x256.py', 256))
    if 'datransnet' in modules and 'NUDT-SIRST' in data:
        mod = modules['datransnet']
        for loader, config in (
                ('NUDTSIRSTSetLoader', 'configs/datransnet/datransnet_1xb4-'
                 '400e_nudt-sirst-256x256.py'),
                ('IRSTD1KSetLoader', 'configs/datransnet/datransnet_1xb4-'
                 '400e_irstd1k-512x512.py')):
            cases.append(dict(
                name=f'datransnet/NUDT-SIRST ({loader})', kind='datransnet',
                module=mod, loader=loader, config=config,
                data_root=data['NUDT-SIRST'],
                stems=stems_for(config, 'NUDT-SIRST'),
                official_desc=f'DATransNet utils/datasets.py {loader}('
                'mode="trainval")'))
    if 'samspl' in modules:
        mod = modules['samspl']
        ref = refs['samspl']

        def samspl_norm(ds):
            if ds.data_set == 'NUDT-SIRST':  # Normalized(): 0-255 scale
                lo, hi = mod.Normalized(np.array([0.0, 255.0], np.float64),
                                        'NUDT-SIRST')
                std = 255.0 / (hi - lo)
                return affine_constants([-lo * std] * 3, [std] * 3)
            norm = ds.transform.transforms[1]
            return affine_constants([m * 255 for m in norm.mean],
                                    [s * 255 for s in norm.std])

        if 'NUDT-SIRST' in data:
            config = ('configs/samspl/samspl-t_1xb12-300e_nudt-sirst-'
                      '256x256.py')
            stems = stems_for(config, 'NUDT-SIRST')
            cases.append(dict(
                name='samspl/NUDT-SIRST', kind='sync', module=mod,
                nudt_samspl=True, config=config,
                data_root=data['NUDT-SIRST'], stems=stems,
                official_desc='SAM-SPL dataset/image_floder.py ImageFolder('
                'data_set="NUDT-SIRST", base_size=256)',
                official_dataset=lambda stems=stems: samspl_folder(
                    mod, ref, tmp, data['NUDT-SIRST'], 'NUDT-SIRST',
                    stems, 256),
                official_index=lambda ds: {
                    osp.splitext(osp.basename(p))[0]: i
                    for i, p in enumerate(ds.images)},
                official_norm=samspl_norm))
        if 'SIRST' in data:
            for data_set, config, cp in (
                    ('IRSTD-1k', 'configs/samspl/samspl-t_1xb12-300e_'
                     'irstd1k-256x256.py', True),
                    ('IRSTDID-SKY', 'configs/samspl/samspl-t_1xb12-300e_'
                     'irstdid-sky-256x256.py', False)):
                stems = stems_for(config, 'SIRST')
                bank = (official_bank_for_ours(ref, config_color_type(config))
                        if cp else None)
                cases.append(dict(
                    name=f'samspl/{data_set} branch on SIRST', kind='sync',
                    module=mod, copy_paste=cp, bank=bank,
                    distributions=cp,
                    config=config, data_root=data['SIRST'], stems=stems,
                    official_desc='SAM-SPL dataset/image_floder.py '
                    f'ImageFolder(data_set="{data_set}", base_size=256'
                    + (', copy_paste=True; bank: the checkout\'s IRSTD-1k '
                       'Target_image/Target_mask, also given to our '
                       'TargetCopyPaste)' if cp else ')'),
                    official_dataset=(
                        lambda ds_=data_set, stems=stems: samspl_folder(
                            mod, ref, tmp, data['SIRST'], ds_, stems, 256)),
                    official_index=lambda ds: {
                        osp.splitext(osp.basename(p))[0]: i
                        for i, p in enumerate(ds.images)},
                    official_norm=samspl_norm))
    return cases


def run(args, refs: dict, data: dict) -> dict:
    """Every case (``args.only``: those whose name contains one of them),
    and the loader and op checks of every data set; ``refs`` and ``data``:
    name -> folder. Returns the results as ``--out`` holds them."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    os.chdir(REPO_ROOT)

    from serankdet.apis import register_all_modules
    register_all_modules()

    skipped = []
    for name, root in list(data.items()):
        if not osp.isdir(osp.join(root, 'trainval', 'images')):
            skipped.append(f'dataset {name}: {root}/trainval/images absent')
            del data[name]
    modules = {}
    for name, root in refs.items():
        try:
            modules[name] = load_official(name, root)
        except (FileNotFoundError, ImportError, OSError) as err:
            skipped.append(f'official {name}: {err}')
    for line in skipped:
        print(f'SKIPPED {line}')
    results = dict(settings=dict(draws=args.draws, seed=args.seed,
                                 exact_samples=args.exact_samples,
                                 images=args.images, refs=refs, data=data),
                   skipped=skipped, cases={}, loaders={}, ops={})
    t_start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for name, root in data.items():
            if args.only and not any(o in name for o in args.only):
                continue
            t0 = time.time()
            results['loaders'][name] = loader_check(root)
            results['loaders'][name]['seconds'] = time.time() - t0
            print(f'\nloaders on {name} trainval: '
                  f'{json.dumps(jsonable(results["loaders"][name]))}')
            if args.ops_images != 0:
                t0 = time.time()
                base = OPS_BASE.get(name, 256)
                results['ops'][name] = ops_check(
                    root, base, args.ops_images if args.ops_images > 0
                    else None)
                results['ops'][name]['base_size'] = base
                results['ops'][name]['seconds'] = time.time() - t0
                print(f'\nresize/blur ops on {name} trainval (base {base}):'
                      f' {json.dumps(jsonable(results["ops"][name]))}')
        for case in make_cases(args, refs, data, modules, tmp):
            if args.only and not any(o in case['name'] for o in args.only):
                continue
            t0 = time.time()
            if case['kind'] == 'datransnet':
                res = run_datransnet_case(case, args, tmp)
            elif case['kind'] == 'test_resize':
                res = run_test_resize_case(case, args, tmp)
            else:
                res = run_sync_case(case, args, tmp)
            res['seconds'] = time.time() - t0
            res['rng'] = RNG_NOTE[case['kind']]
            results['cases'][case['name']] = res
            print_case(case['name'], res)
            print(f'({res["seconds"]:.1f} s)')
    results['seconds'] = time.time() - t_start
    return results
