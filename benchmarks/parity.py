"""Seed-averaged training parity on real data: the official code and ours.

``step_exact.py`` shows that one optimizer step of ours equals one of the
official code; this script checks the whole short training run on a real
data set, where data order, augmentation, initialisation and evaluation
also count. For each model it trains several seeds with each side's own
training code, on the same data and budget, and scores every trained model
on the same test split with the same metric:

* ``official``: the authors' training loop, driven from this script with
  their own parts imported at run time from a checkout (nothing copied):
  their dataset class on the files laid out as it reads them, their
  ``DataLoader`` settings (batch, shuffle, workers, ``drop_last``), network
  (seeded as their script seeds it), loss, optimizer and per-epoch
  scheduler (via ``reference_models.py``), their batch-skipping rule;
* ``ours``: ``tools/train.py CONFIG`` exactly as a user runs it, with the
  epoch count, seed and data root overridden on the command line. Where
  the parity setting is not a paper setting (a random SAM2 trunk, a
  width-reduced SeRankDet) CONFIG is a small config written into the work
  directory that inherits the paper config and changes only that
  (``ParitySpec.config_changes``, recorded in the run JSON).

The models (``SPECS``; each side's seconds per iteration measured with one
thread beside another one-thread job):

* ``datransnet``: DATransNet on NUDT-SIRST, its ``train.py`` recipe;
* ``samspl-t``: SAM-SPL-T on NUDT-SIRST, its ``training.py`` recipe, both
  sides on a randomly initialised frozen Hiera trunk (the SAM2 weights are
  not available offline);
* ``samspl-t-softiou``: the same on a reduced setting meant to learn in a
  CPU budget: each output's BCE plus a batch soft-IoU term (on the official
  side through its ``Trainer``'s ``loss_fn`` hook), lr 1e-3, batch 4,
  2 epochs;
* ``serankdet``: SeRankDet at width 8 (``serankdet-w8``: channels 8 ... 128,
  the official K per stage 512 ... 32) on SIRST at base/crop 256, its
  ``train.py`` recipe otherwise. The official class fixes its width in
  ``__init__`` (``n1 = 64``) and keys its Top-K tables by channel count;
  ``reference_models.build_reference(..., base_channels=8)`` changes both at
  import time (the checkout is untouched).

Scoring: the final model predicts every test image at its native size
(both sides pad bottom/right to the network's stride with zeros after
normalisation and crop the prediction back); the probabilities are scored
by ``IRSTDMetric`` twice: ``threshold 0.5`` (the toolbox's definitions, the
same for both sides) and ``per-image max``, the DATransNet test script's
Pd/Fa rule (``evaluation/pd_fa.py`` divides each probability map by its
maximum before thresholding at 0.5, so every image predicts something); its
IoU rule is the plain 0.5 threshold. SeRankDet's own test mode resizes
frames to the base size; the official side here feeds the native frame
through the official dataset's normalisation instead, so that both sides
are scored on the same pixels.

Each run writes ``benchmarks/results/parity_runs/<model>/<E>ep/<side>_seed
<S>.json`` as soon as it ends (runs already there are skipped, so an
interrupted sweep continues where it stopped); ``summary`` collects them
into ``benchmarks/results/parity_<model>_<E>ep.json`` with mean and sample
standard deviation per side and prints the table. ``--epochs E`` and
``--batch B`` change the budget on both sides (a batch other than the
spec's is kept apart as ``<E>ep_b<B>``); ``run --side ours --work-dir DIR``
scores the last checkpoint of an earlier run instead of training again. ``--limit-train N`` /
``--limit-test N`` (smoke runs only: the first N images of each split, by
stem) write under ``benchmarks/results/parity_smoke/`` and
``work_dirs/parity_smoke/`` instead, one folder per limit, so they never mix
with real runs.

Usage (``PYTHONPATH`` with ``einops`` for the SeRankDet checkout)::

    python benchmarks/parity.py all --models datransnet --seeds 42 43 44 \\
        --reference-root datransnet=../DATransNet \\
        --data-root datransnet=../shared/datasets/NUDT-SIRST --jobs 2
    python benchmarks/parity.py all --models samspl-t --seeds 42 43 44 \\
        --reference-root samspl-t=../SAM-SPL \\
        --data-root samspl-t=../shared/datasets/NUDT-SIRST --jobs 2
    python benchmarks/parity.py all --models samspl-t-softiou \\
        --seeds 42 43 44 --reference-root samspl-t-softiou=../SAM-SPL \\
        --data-root samspl-t-softiou=../shared/datasets/NUDT-SIRST --jobs 2
    python benchmarks/parity.py all --models serankdet --seeds 42 43 44 \\
        --reference-root serankdet=../SeRankDet \\
        --data-root serankdet=../shared/datasets/SIRST --jobs 2
    python benchmarks/parity.py summary --models datransnet samspl-t \\
        samspl-t-softiou serankdet

``--jobs 2`` trains an official and an our run side by side with one thread
each, so both see the same machine load.

``cross`` splits a difference between the sides into training and testing:
it scores one of our checkpoints through our test path and through the
official one (the official network holding the same weights, mapped back by
the model's converter; the official test data and forward), frame by frame,
and prints both scores and the largest probability difference::

    python benchmarks/parity.py cross --model datransnet \
        --checkpoint work_dirs/parity/datransnet/ours_seed43_<t>/epoch_3.pth \
        --reference-root datransnet=../DATransNet \
        --data-root datransnet=../shared/datasets/NUDT-SIRST --out cross.json

``init-law`` compares where training starts: each side's code initialises
its network from the same seed (the official network as its script builds
it, ours by ``init_weights()`` of the parity config), and for every official
tensor the converter maps, the mean and std of both are compared in
standard errors; a tensor more than ``LAW_Z_LIMIT`` apart is reported as
drawn from another law (single-element tensors are only listed)::

    python benchmarks/parity.py init-law --models datransnet samspl-t \
        serankdet --reference-root datransnet=../DATransNet \
        --reference-root samspl-t=../SAM-SPL \
        --reference-root serankdet=../SeRankDet \
        --out benchmarks/results/parity_init_law.json

``drift`` asks whether a difference of the seed runs comes from the
training dynamics or from the random streams (data order, flips,
initialisation draws). Both sides start from the same weights (the
official network as its code initialises it from ``--seed``, mapped into
ours by the converter) and train on the same real, unaugmented batches
(``--steps`` batches of the training split in a seeded order) in float32,
with ``step_exact.py``'s loops; then the official side runs again with
``--noise-floor`` threads, which changes only the rounding. Reported: the
losses by quarter of the run, how far each run's weights are from the
official run's (fingerprints at steps 1, 5, 10, 25, ...; the final state
by group), and the main output on ``--probe`` test frames (scores, share of
pixels above 0.5, largest probability difference), written to
``benchmarks/results/parity_drift_<model>_seed<S>.json``. ``--cfg-options``
changes our side's config only (e.g. ``model.decode_head.loss_decode.0.
through_probability=True``, the official BCE clamp); the file name then
ends with the options' last keys and values::

    python benchmarks/parity.py drift --model samspl-t-softiou --steps 100 \
        --reference-root samspl-t-softiou=../SAM-SPL \
        --data-root samspl-t-softiou=../shared/datasets/NUDT-SIRST \
        --seed 42
"""
import argparse
import dataclasses
import json
import math
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction

HERE = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(HERE)
RESULTS_DIR = osp.join(HERE, 'results')
RUNS_DIR = osp.join(RESULTS_DIR, 'parity_runs')
SMOKE_DIR = osp.join(RESULTS_DIR, 'parity_smoke')
for path in (HERE, REPO_ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

SIDES = ('official', 'ours')
SCORINGS = ('threshold_0.5', 'per_image_max')
REPORTED = ('IoU', 'nIoU', 'Pd', 'Fa', 'precision', 'recall')
SPLITS = ('trainval', 'test')


@dataclasses.dataclass
class ParitySpec:
    """One model's parity setting (the same budget on both sides).

    Attributes:
        config: our config, relative to the repository root.
        dataset: name of the data set (the folder under ``datasets/``).
        size: training side, also given to the official network and
            dataset (base/crop size).
        epochs: epochs trained on each side.
        official_data: key of :data:`OFFICIAL_DATA`, how the official
            script reads the data set.
        official_dataset: the official dataset class.
        official_batch, official_workers, official_drop_last: the official
            training ``DataLoader`` (always ``shuffle=True``).
        official_skip_single: the official loop skips a batch of one.
        official_logits: the official network's test output is a logit map
            (its test script thresholds the sigmoid at 0.5), not a
            probability map.
        official_settings: ``build_reference`` options (the network).
        official_optimizer: ``make_optimizer`` options (e.g. the lr a
            reduced setting gives the official config).
        official_schedule: ``make_scheduler`` options (the schedule length
            the official script is given).
        config_changes: body of a config inheriting ``config`` that our
            side trains instead ('' trains ``config`` itself).
        reference: the official model (``reference_models``) this
            setting trains; '' for the setting's own name.
    """
    config: str
    dataset: str
    size: int
    epochs: int
    official_data: str
    official_dataset: str
    official_batch: int
    official_workers: int
    official_drop_last: bool = False
    official_skip_single: bool = False
    official_logits: bool = False
    official_settings: Dict = dataclasses.field(default_factory=dict)
    official_optimizer: Dict = dataclasses.field(default_factory=dict)
    official_schedule: Dict = dataclasses.field(default_factory=dict)
    config_changes: str = ''
    reference: str = ''


SPECS: Dict[str, ParitySpec] = {
    # The issue-13 recipe: DATransNet's train.py defaults (batch 4, Adam
    # 5e-4, MultiStepLR 200/300 per epoch, batch soft-IoU, no augmentation,
    # DataLoader(shuffle=True, num_workers=1), a batch of one skipped),
    # 3 epochs of NUDT-SIRST (166 iterations each): measured ~10 s CPU per
    # iteration on each side (one thread): ~85 min a run.
    'datransnet': ParitySpec(
        config='configs/datransnet/datransnet_1xb4-400e_nudt-sirst-256x256.py',
        dataset='NUDT-SIRST', size=256, epochs=3,
        official_data='datransnet', official_dataset='NUDTSIRSTSetLoader',
        official_batch=4, official_workers=1, official_skip_single=True),
    # SAM-SPL's training.py defaults on NUDT-SIRST: ImageFolder at base 256
    # (its NUDT-SIRST branch: resize to 256 = identity, 256 crop biased to
    # targets = the whole frame, vertical/horizontal flip and transpose; no
    # copy-paste in this branch), Trainer DataLoader(batch 12, shuffle,
    # 7 workers), no batch skipped; sum of BCE over the three outputs, Adan
    # 1e-2, cosine over 300 epochs stepped per epoch. Random frozen trunk on
    # both sides. Budget: the first epoch (56 iterations), the least the
    # official loop runs: measured ~28 s/iteration (CPU time, one thread;
    # 33 s official / 54 s ours wall on the loaded 2-core machine) and
    # ~0.8 s per 256x256 test image: ~26 min training + ~9 min test a run.
    'samspl-t': ParitySpec(
        config='configs/samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
        dataset='NUDT-SIRST', size=256, epochs=1,
        official_data='samspl', official_dataset='ImageFolder',
        official_batch=12, official_workers=7, official_logits=True,
        config_changes='model = dict(backbone=dict(trunk=dict('
        'pretrained=None)))\n'),
    # A reduced SAM-SPL-T setting meant to learn on a random frozen trunk
    # in a CPU budget (the recipe above learns nothing in one epoch; seed
    # 42 of this one is at the onset of learning on both sides): each
    # output's BCE plus a batch soft-IoU term (the official Trainer's
    # loss_fn hook; ours: both losses in loss_decode), Adan lr 1e-3, batch
    # 4, 2 epochs (332 iterations); the rest as above. Measured 7.6-7.9 s
    # an iteration (one thread, two runs side by side): ~43 min training
    # + 7.5-8.5 min test.
    'samspl-t-softiou': ParitySpec(
        config='configs/samspl/samspl-t_1xb12-300e_nudt-sirst-256x256.py',
        dataset='NUDT-SIRST', size=256, epochs=2,
        official_data='samspl', official_dataset='ImageFolder',
        official_batch=4, official_workers=7, official_logits=True,
        official_settings=dict(soft_iou=True),
        official_optimizer=dict(lr=1e-3),
        reference='samspl-t',
        config_changes=(
            'model = dict(\n'
            '    backbone=dict(trunk=dict(pretrained=None)),\n'
            '    decode_head=dict(loss_decode=[\n'
            '        dict(type=\'SigmoidBCELoss\'),\n'
            '        dict(type=\'SoftIoULoss\', reduction=\'batch\')]))\n'
            'optim_wrapper = dict(optimizer=dict(lr=1e-3))\n')),
    # SeRankDet's train.py with its NUAA (SIRST) config but width 8,
    # base/crop 256 (serankdet-w8), lr 1e-3 and an 8-epoch schedule:
    # DatasetLoad (flip, long side 128..512, pad, 256 crop, blur),
    # DataLoader(batch 4, shuffle, 8 workers, drop_last=True), soft-IoU
    # summed over the six outputs, AdamW (weight decay 0.01), the official
    # PolyLR (linear warm-up over 5 epochs, then poly) with num_epochs 8,
    # stepped before each epoch: lr 2e-4, 2e-4, 4e-4, 6e-4, 8e-4, 1e-3,
    # 8.87e-4, 7.72e-4 (ours: recipes.serankdet_param_scheduler(8), equal
    # to 1e-19). The paper's lr 1e-4 and 1500-epoch schedule learn
    # nothing in a CPU budget (6 epochs: both sides IoU ~0.001, see
    # benchmarks/README.md); 1e-3 is what serankdet-w8 trains with.
    # Measured 2.0-2.5 s/iteration (one thread, loaded 2-core machine):
    # 8 x 85 iterations, ~25 min training + ~1 min test a run.
    'serankdet': ParitySpec(
        config='configs/serankdet/serankdet_1xb4-1500e_sirst-512x512.py',
        dataset='SIRST', size=256, epochs=8,
        official_data='serankdet', official_dataset='DatasetLoad',
        official_batch=4, official_workers=8, official_drop_last=True,
        official_logits=True,
        official_settings=dict(base_channels=8),
        official_optimizer=dict(lr=1e-3),
        official_schedule=dict(epochs=8, base_lr=1e-3),
        config_changes=(
            'from serankdet import recipes  # noqa: E402\n'
            '# serankdet-w8: channels 8 ... 128, K per stage 512 ... 32\n'
            'channels = [8 * 2**i for i in range(5)]\n'
            'model = dict(\n'
            '    backbone=dict(base_channels=8, topk_budget=512 * 8),\n'
            '    neck=dict(in_channels=channels),\n'
            '    decode_head=dict(in_channels=channels))\n'
            'train_dataloader = dict(dataset=dict(\n'
            '    pipeline=recipes.train_pipeline(256, (256, 256))))\n'
            '# lr 1e-3, the official schedule over 8 epochs\n'
            'optim_wrapper = dict(optimizer=dict(lr=1e-3))\n'
            'param_scheduler = recipes.serankdet_param_scheduler(8)\n')),
}

# the name of each official model's converter (serankdet.registry.CONVERTERS)
CONVERTER_NAMES = {'datransnet': 'datransnet', 'samspl-t': 'samspl',
                   'serankdet': 'serankdet'}


def reference_name(model_name: str, spec: ParitySpec) -> str:
    """The official model (``reference_models``) a setting trains."""
    return spec.reference or model_name


# --------------------------------------------------------------------------
# Scoring (the same for both sides)


def _sample(probability: torch.Tensor, gt: torch.Tensor) -> dict:
    """An ``IRSTDMetric`` data sample from a (H, W) probability map."""
    logits = torch.logit(probability.double().clamp(0, 1))
    return dict(seg_logits=dict(data=logits[None]),
                gt_sem_seg=dict(data=gt.long()[None]))


def score(predictions: Iterable[Tuple[torch.Tensor, torch.Tensor]]) -> dict:
    """Score (probability (H, W), mask (H, W)) pairs by both rules.

    ``per_image_max`` divides each map by its maximum first, as DATransNet's
    ``evaluation/pd_fa.py`` does (a map that is all zero predicts nothing).
    """
    from serankdet.evaluation import IRSTDMetric
    metrics = {name: IRSTDMetric() for name in SCORINGS}
    for probability, gt in predictions:
        metrics['threshold_0.5'].process(None, [_sample(probability, gt)])
        peak = probability.max()
        relative = probability / peak if peak > 0 else probability
        metrics['per_image_max'].process(None, [_sample(relative, gt)])
    result = {}
    for name, metric in metrics.items():
        values = metric.compute_metrics(metric.results)
        result[name] = {key: float(values[key]) for key in REPORTED}
        result[name]['num_images'] = int(values['num_images'])
    return result


# --------------------------------------------------------------------------
# The official side: each script's data set on our split layout


def split_stems(data_root: str, split: str,
                limit: Optional[int] = None) -> List[str]:
    """Stems of a split, sorted (as our dataset orders them); the first
    ``limit`` only when given."""
    folder = osp.join(data_root, split, 'images')
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{folder} not found: --data-root must hold '
            '{trainval,test}/{images,masks} (see datasets/README.md)')
    stems = sorted(osp.splitext(name)[0] for name in os.listdir(folder))
    return stems[:limit] if limit else stems


def link_split(data_root: str, split: str, stems: List[str],
               images_dir: str, masks_dir: str) -> None:
    """Link the image and mask of every stem of ``split`` into the two
    folders."""
    for sub, folder in (('images', images_dir), ('masks', masks_dir)):
        os.makedirs(folder, exist_ok=True)
        for stem in stems:
            os.symlink(
                osp.abspath(osp.join(data_root, split, sub, stem + '.png')),
                osp.join(folder, stem + '.png'))


def write_list(path: str, stems: List[str]) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(stems) + '\n')


def datransnet_datasets(module, spec: ParitySpec, data_root: str,
                        stems: Dict[str, List[str]], tmp: str):
    """DATransNet ``utils/datasets.py``: ``<base>/{images,masks}`` hold both
    splits, ``<base>/img_idx/{train,test}_<dataset>.txt`` list them."""
    base = osp.join(tmp, spec.dataset)
    for split, listed in zip(SPLITS, ('train', 'test')):
        link_split(data_root, split, stems[split], osp.join(base, 'images'),
                   osp.join(base, 'masks'))
        write_list(osp.join(base, 'img_idx', f'{listed}_{spec.dataset}.txt'),
                   stems[split])
    loader_cls = getattr(module, spec.official_dataset)
    return (loader_cls(base_dir=base, mode='trainval'),
            loader_cls(base_dir=base, mode='test'))


def samspl_datasets(module, spec: ParitySpec, data_root: str,
                    stems: Dict[str, List[str]], tmp: str):
    """SAM-SPL ``dataset/image_floder.py``: ``<path>/<dataset>/{images,
    masks}`` hold both splits, listed by ``./dataset/set_configs/<dataset>/
    {train,test}.txt`` relative to the working directory (read when the
    dataset is built); ``training.py`` builds both with base and crop
    ``--image_size``."""
    from augmentation_parity import chdir
    path, cwd = osp.join(tmp, 'data'), osp.join(tmp, 'cwd')
    for split, listed in zip(SPLITS, ('train', 'test')):
        link_split(data_root, split, stems[split],
                   osp.join(path, spec.dataset, 'images'),
                   osp.join(path, spec.dataset, 'masks'))
        write_list(osp.join(cwd, 'dataset', 'set_configs', spec.dataset,
                            f'{listed}.txt'), stems[split])
    dataset_cls = getattr(module, spec.official_dataset)
    with chdir(cwd):
        return tuple(
            dataset_cls(path, spec.dataset, istraining=training,
                        base_size=spec.size, crop_size=spec.size)
            for training in (True, False))


def serankdet_datasets(module, spec: ParitySpec, data_root: str,
                       stems: Dict[str, List[str]], tmp: str):
    """SeRankDet ``utils/data.py``: our own layout ``<root>/{trainval,test}/
    {images,masks}``; ``build/build_dataset.py`` builds ``mode='train'`` and
    ``mode='test'`` from the dataset config (base and crop ``size``,
    ``data_aug=True``)."""
    root = osp.join(tmp, spec.dataset)
    for split in SPLITS:
        link_split(data_root, split, stems[split],
                   osp.join(root, split, 'images'),
                   osp.join(root, split, 'masks'))
    dataset_cls = getattr(module, spec.official_dataset)
    settings = dict(data_root=root, base_size=spec.size, crop_size=spec.size,
                    train_dir='trainval', test_dir='test', data_aug=True,
                    suffix='png')
    return (dataset_cls(mode='train', **settings),
            dataset_cls(mode='test', **settings))


def dataset_item(test_set, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The official test item itself (DATransNet, SAM-SPL's NUDT-SIRST
    branch: native size, normalised): network input (1, C, H, W) and mask
    (H, W) bool."""
    img, mask = test_set[index][:2]
    return img[None], mask[0] > 0.5


def serankdet_native_item(test_set,
                          index: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """SeRankDet's test mode resizes to the base size; here the NATIVE
    frame goes through the same reading (PIL RGB / L) and the dataset's own
    ``rgb_transform`` (ImageNet normalisation), the mask through its
    ``ToTensor`` scale (/255) and the 0.5 threshold."""
    from PIL import Image
    name = test_set.img_names[index]
    img = Image.open(osp.join(test_set.data_dir, 'images', name))
    mask = Image.open(osp.join(test_set.data_dir, 'masks', name))
    img = test_set.rgb_transform(np.array(img.convert('RGB')))
    mask = torch.from_numpy(np.array(mask.convert('L')) / 255.0)
    return img[None], mask > 0.5


@dataclasses.dataclass
class OfficialData:
    """How one official training script reads a data set.

    Attributes:
        module: ``augmentation_parity.load_official`` name of its data code.
        datasets: ``(module, spec, data_root, stems per split, tmp) ->
            (train set, test set)``: the files laid out as the official
            class reads them (links to ours) and both sets built.
        test_item: ``(test set, index) -> (input (1, C, H, W), mask (H, W)
            bool)`` at native size.
    """
    module: str
    datasets: Callable
    test_item: Callable


OFFICIAL_DATA: Dict[str, OfficialData] = {
    'datransnet': OfficialData('datransnet', datransnet_datasets,
                               dataset_item),
    'samspl': OfficialData('samspl', samspl_datasets, dataset_item),
    'serankdet': OfficialData('serankdet', serankdet_datasets,
                              serankdet_native_item),
}


def seed_like_official(seed: int) -> None:
    """What the three official seed functions do on a CPU (DATransNet
    ``utils/utils.py`` ``seed_pytorch``, SAM-SPL ``training/utils.py``
    ``seed_everything``, SeRankDet ``utils/tools.py`` ``random_seed``; the
    rest of theirs is CUDA/cuDNN settings)."""
    import random
    random.seed(seed)
    os.environ['PYTHONHASHSEED'] = str(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def predict_padded(forward_eval: Callable, img: torch.Tensor,
                   multiple: int) -> torch.Tensor:
    """(H, W) probability of a (1, C, H, W) input zero-padded bottom/right
    to a multiple of ``multiple`` (as our data preprocessor pads), cropped
    back."""
    height, width = img.shape[-2:]
    padded = F.pad(img, (0, -width % multiple, 0, -height % multiple))
    return forward_eval(padded)[0, 0, :height, :width]


def official_predictions(model_name: str, spec: ParitySpec, reference,
                         data: OfficialData, test_set
                         ) -> Iterable[Tuple[torch.Tensor, torch.Tensor]]:
    """(probability (H, W), mask (H, W) bool) of every official test item,
    through the official network's eval forward at native size."""
    from reference_models import _SIZE_MULTIPLE
    multiple = _SIZE_MULTIPLE[reference_name(model_name, spec)]
    with torch.no_grad():
        for index in range(len(test_set)):
            img, mask = data.test_item(test_set, index)
            out = predict_padded(reference.forward_eval, img, multiple)
            yield out.sigmoid() if spec.official_logits else out, mask


def run_official(model_name: str, spec: ParitySpec, seed: int,
                 reference_root: str, data_root: str,
                 limits: Dict[str, Optional[int]]) -> dict:
    """Train and score one seed with the official training loop."""
    from augmentation_parity import load_official
    from reference_models import build_reference
    data = OFFICIAL_DATA[spec.official_data]
    data_module = load_official(data.module, reference_root)
    stems = {split: split_stems(data_root, split, limits[split])
             for split in SPLITS}
    with tempfile.TemporaryDirectory() as tmp:
        # every official script: seed first, then the data sets and loader,
        # then the network (the first torch draws)
        seed_like_official(seed)
        train_set, test_set = data.datasets(data_module, spec, data_root,
                                            stems, tmp)
        train_loader = torch.utils.data.DataLoader(
            train_set, batch_size=spec.official_batch, shuffle=True,
            num_workers=spec.official_workers,
            drop_last=spec.official_drop_last)
        reference = build_reference(reference_name(model_name, spec),
                                    reference_root, spec.size, seed=seed,
                                    **spec.official_settings)
        optimizer = reference.make_optimizer(reference.model.parameters(),
                                             **spec.official_optimizer)
        scheduler = reference.make_scheduler(optimizer,
                                             **spec.official_schedule)
        epoch_losses, iterations = [], 0
        start = time.time()
        for epoch in range(spec.epochs):
            scheduler.start_epoch(epoch)
            losses = []
            for batch in train_loader:
                img, mask = batch[:2]  # SAM-SPL also yields the file names
                if spec.official_skip_single and img.shape[0] == 1:
                    continue
                loss = reference.loss(reference.forward_train(img), mask)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            scheduler.end_epoch(epoch)
            iterations += len(losses)
            epoch_losses.append(float(np.mean(losses)))
            print(f'official {model_name} seed {seed}: epoch {epoch + 1} '
                  f'loss {epoch_losses[-1]:.4f}', flush=True)
        train_seconds = time.time() - start
        start = time.time()
        scores = score(official_predictions(model_name, spec, reference,
                                            data, test_set))
        test_seconds = time.time() - start
    return dict(scores=scores, epoch_losses=epoch_losses,
                train_seconds=train_seconds, test_seconds=test_seconds,
                iterations=iterations,
                seconds_per_iteration=train_seconds / max(iterations, 1),
                learning_rate_end=optimizer.param_groups[0]['lr'],
                command='official training loop (benchmarks/parity.py)')


# --------------------------------------------------------------------------
# Our side


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _training_log(work_dir: str) -> List[dict]:
    """Every training log line mmengine wrote (``vis_data/scalars.json``:
    ``time``, ``loss``, ``epoch``, ... averaged over the logging window)."""
    entries = []
    for root, _, names in os.walk(work_dir):
        if osp.basename(root) != 'vis_data' or 'scalars.json' not in names:
            continue
        with open(osp.join(root, 'scalars.json')) as f:
            for line in f:
                entry = json.loads(line)
                if 'time' in entry and 'loss' in entry:
                    entries.append(entry)
    return entries


def _epoch_losses(log: List[dict], epochs: int) -> List[float]:
    """Mean training loss of each epoch from a log line every iteration,
    split by count (iteration-based logs, e.g. SAM-SPL's configs, name no
    epoch; every epoch of a run has the same number of iterations)."""
    losses = [float(entry['loss']) for entry in log]
    return [float(np.mean(chunk))
            for chunk in np.array_split(losses, epochs)]


def our_config(spec: ParitySpec, work_dir: str,
               cfg_options: Optional[Dict] = None) -> str:
    """The config our side trains: ``spec.config``, or a config in
    ``work_dir`` inheriting it with ``spec.config_changes``; then
    ``cfg_options`` (dotted keys, list items by index) merged in."""
    config = osp.join(REPO_ROOT, spec.config)
    if not spec.config_changes and not cfg_options:
        return config
    path = osp.join(work_dir, 'parity_' + osp.basename(config))
    os.makedirs(work_dir, exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'_base_ = [{config!r}]\n' + spec.config_changes)
    if cfg_options:
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(cfg_options, allow_list_keys=True)
        cfg.dump(path)
    return path


def our_predictions(config: str, checkpoint: str, data_root: str,
                    limit_test: Optional[int]
                    ) -> Iterable[Tuple[torch.Tensor, torch.Tensor]]:
    """(probability (H, W), mask (H, W) bool) of every test frame of
    ``config``'s test set (the first ``limit_test`` ones when given),
    through our test pipeline and ``test_step``."""
    from mmengine.runner import Runner

    from serankdet.apis import init_model
    test_options = {'test_dataloader.dataset.data_root': data_root}
    if limit_test:
        test_options['test_dataloader.dataset.indices'] = limit_test
    model = init_model(config, checkpoint, cfg_options=test_options)
    loader = Runner.build_dataloader(model.cfg.test_dataloader)
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                yield (sample.seg_logits.data[0].sigmoid(),
                       sample.gt_sem_seg.data[0] > 0)


def run_ours(model_name: str, spec: ParitySpec, seed: int,
             data_root: str, work_dir: str,
             limits: Dict[str, Optional[int]], trained: bool = False) -> dict:
    """Train with ``tools/train.py`` and score the last checkpoint
    (``trained``: score the last checkpoint ``work_dir`` already holds)."""
    config = our_config(spec, work_dir)
    overrides = [
        f'train_cfg.max_epochs={spec.epochs}',
        # no validation during training: both sides are scored once, below
        # (mmengine also validates after the last epoch unless val_begin
        # lies beyond it)
        f'train_cfg.val_interval={spec.epochs + 1}',
        f'train_cfg.val_begin={spec.epochs + 1}',
        f'randomness.seed={seed}',
        f'train_dataloader.batch_size={spec.official_batch}',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        # a log line every iteration: per-epoch mean losses as the official
        # side reports them
        'default_hooks.logger.interval=1',
    ]
    if limits['trainval']:  # the first N samples, sorted by stem
        overrides.append(
            f'train_dataloader.dataset.indices={limits["trainval"]}')
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
               config, '--work-dir', work_dir, '--cfg-options', *overrides]
    if not trained:
        start = time.time()
        subprocess.run(command, check=True, cwd=REPO_ROOT)
        train_seconds = time.time() - start
    checkpoint = _last_checkpoint(work_dir)
    iterations = torch.load(checkpoint, map_location='cpu',
                            weights_only=False)['meta']['iter']
    start = time.time()
    scores = score(our_predictions(config, checkpoint, data_root,
                                   limits['test']))
    test_seconds = time.time() - start
    log = _training_log(work_dir)
    if trained:  # the iterations' logged times (no process start)
        train_seconds = float(sum(entry['time'] for entry in log))
    result = dict(
        scores=scores, train_seconds=train_seconds,
        test_seconds=test_seconds, iterations=iterations,
        # the process start, data set and model building included
        seconds_per_iteration=train_seconds / max(iterations, 1),
        checkpoint=osp.relpath(checkpoint, REPO_ROOT),
        command=' '.join(
            ['python tools/train.py', osp.relpath(config, REPO_ROOT),
             '--work-dir', osp.relpath(work_dir, REPO_ROOT), '--cfg-options',
             *overrides]))
    if log:  # training iterations only
        result['logged_seconds_per_iteration'] = float(
            np.mean([entry['time'] for entry in log]))
        result['epoch_losses'] = _epoch_losses(log, spec.epochs)
    if spec.config_changes:
        result['config_changes'] = spec.config_changes
    if trained:
        result['scored_again'] = ('train_seconds: sum of the logged '
                                  'iteration times')
    return result


def official_state_dict(reference: str, official: torch.nn.Module,
                        ours: Dict[str, torch.Tensor]
                        ) -> Dict[str, torch.Tensor]:
    """The official network's state dict with every tensor our converter
    maps taken from our state dict ``ours`` (the converter run backwards);
    tensors the converter drops (parameters the official forward never
    uses) keep the official network's own values."""
    from serankdet.models.converters.base import get_converter
    converter = get_converter(CONVERTER_NAMES[reference])
    state = official.state_dict()
    missing = []
    for key in state:
        our_key = converter.map_key(key)
        if our_key is None:
            continue
        if our_key not in ours or ours[our_key].shape != state[key].shape:
            missing.append(f'{key} <- {our_key}')
            continue
        state[key] = ours[our_key]
    if missing:
        raise SystemExit(
            f'the checkpoint is not a {reference} checkpoint of the parity '
            f'setting: {len(missing)} official tensors without a value of the '
            f'same shape, e.g. {missing[:3]}')
    return state


def cross_score(args) -> None:
    """Score one of our checkpoints through both test paths: ours (our
    model, our test pipeline, ``test_step``) and the official one (the
    official network holding the same weights, the official test data and
    eval forward), frame by frame. Equal probabilities mean the test paths
    agree, so a difference between the sides comes from training."""
    from augmentation_parity import load_official
    from reference_models import build_reference

    from serankdet.utils.checkpoint import load_checkpoint_file
    spec = SPECS[args.model]
    limits = _limits(args)
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


#: a tensor whose official and our statistics differ by more than this many
#: standard errors is reported as drawn from another law
LAW_Z_LIMIT = 4.0


def tensor_law(official: torch.Tensor, ours: torch.Tensor) -> dict:
    """Mean and std of one freshly initialised tensor on each side, and how
    many standard errors apart they are (``z_mean``, ``z_std``; the standard
    error of a sample std of n values is about s / sqrt(2 n))."""
    a, b = official.double().flatten(), ours.double().flatten()
    n = a.numel()
    row = dict(numel=n, official_mean=a.mean().item(), ours_mean=b.mean().item(),
               official_std=a.std().item(), ours_std=b.std().item())
    variance = row['official_std']**2 + row['ours_std']**2
    if variance == 0:  # constants on both sides: must be equal
        row['z_mean'] = row['z_std'] = (
            0.0 if torch.equal(a, b) else math.inf)
    else:
        row['z_mean'] = abs(row['official_mean'] - row['ours_mean']) / \
            math.sqrt(variance / n)
        row['z_std'] = abs(row['official_std'] - row['ours_std']) / \
            math.sqrt(variance / (2 * n))
    return row


def init_law(args) -> None:
    """Compare the initialisation law of the official network and ours, as
    each side's code draws it from the same seed: per official tensor that
    the converter maps, mean and std on both sides (single-element tensors
    are listed, one draw says nothing about a law)."""
    from reference_models import build_reference

    from serankdet.apis import register_all_modules
    from serankdet.models.converters.base import get_converter
    from serankdet.registry import MODELS
    register_all_modules()
    report = dict(seed=args.seed, z_limit=LAW_Z_LIMIT, models={})
    for model_name in args.models:
        spec = SPECS[model_name]
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


# --------------------------------------------------------------------------
# Same weights, same real batches: where the two trainings part


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


def window_means(values: List[float], windows: int = 4) -> List[float]:
    """Means of ``values`` over ``windows`` consecutive, near-equal runs
    (fewer when there are fewer values)."""
    return [float(np.mean(chunk)) for chunk in np.array_split(
        np.asarray(values, float), min(windows, len(values)))]


def _probe(probability: torch.Tensor, masks) -> dict:
    """Scores of the probe frames' main-output probabilities (N, H, W) at
    threshold 0.5 and per-image max, the share of pixels above 0.5 and the
    mean per-image maximum probability."""
    probability = probability.double()
    scores = score(zip(probability, (m > 0 for m in masks)))
    return dict(scores=scores, probability=probability,
                positive_share=float((probability > 0.5).double().mean()),
                mean_max=float(probability.flatten(1).max(1).values.mean()))


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
    import step_exact
    from reference_models import build_reference

    from serankdet.models.converters.base import get_converter
    spec = setting(args, args.model)
    reference = reference_name(args.model, spec)
    step_spec = step_exact.SPECS[reference]
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
        batches = step_exact.network_inputs(run_spec, frames, masks,
                                            torch.float32)
        probe = step_exact.network_inputs(
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
            run = step_exact.run_official(
                ref, run_spec, initial, batches, args.steps, torch.float32,
                checkpoints, spec.official_optimizer)
            run['seconds'] = time.time() - start
            with torch.no_grad():
                out = torch.cat([ref.forward_eval(probe[i:i + 4])[:, 0]
                                 for i in range(0, len(probe), 4)])
            run['probe'] = _probe(
                out.sigmoid() if spec.official_logits else out, probe_masks)
            run['initial'] = initial
            torch.set_num_threads(args.threads)
            return run

        step_exact.PROGRESS = True
        official = official_run(args.threads)
        start = time.time()
        ours = step_exact.run_ours(reference, run_spec, official['initial'],
                                   frames, masks, args.steps, torch.float32,
                                   checkpoints)
        ours['seconds'] = time.time() - start
        # our test path: data preprocessor, eval forward, logits at the
        # frame size
        model = ours['model'].eval()
        with torch.no_grad():
            ours['probe'] = _probe(torch.cat([
                sample.seg_logits.data.sigmoid()
                for i in range(0, len(probe_frames), 4)
                for sample in model.test_step(step_exact.batch_data(
                    probe_frames, probe_masks,
                    range(i, min(i + 4, len(probe_frames)))))]), probe_masks)
        again = official_run(args.noise_floor)

    map_key = get_converter(CONVERTER_NAMES[reference]).map_key
    parameters = {k: p.requires_grad for k, p in model.named_parameters()}
    no_true_gradient = step_exact.without_true_gradient(
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
                str(k): step_exact.fingerprint_difference(
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
        ours=step_exact.compare_states(
            run_spec, official_state, model.state_dict(),
            official['initial'], parameters, no_true_gradient),
        official_itself=step_exact.compare_states(
            run_spec, official_state, again['model'].state_dict(),
            official['initial'], parameters, no_true_gradient))
    print_drift(report)
    write_json_atomic(args.out, report)
    print(f'written {args.out}')


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


# --------------------------------------------------------------------------
# Runs, sweep, summary


def _limits(args) -> Dict[str, Optional[int]]:
    return dict(trainval=args.limit_train, test=args.limit_test)


def setting(args, model_name: str) -> ParitySpec:
    """The model's ParitySpec with the budget the command line gives."""
    spec = SPECS[model_name]
    return dataclasses.replace(
        spec, epochs=args.epochs or spec.epochs,
        official_batch=args.batch or spec.official_batch)


def setting_name(model_name: str, spec: ParitySpec) -> str:
    """``<E>ep``, plus ``_b<B>`` where the batch is not the spec's."""
    name = f'{spec.epochs}ep'
    if spec.official_batch != SPECS[model_name].official_batch:
        name += f'_b{spec.official_batch}'
    return name


def runs_folder(args, model_name: str, spec: ParitySpec) -> str:
    """Real runs: ``parity_runs/<model>/<setting>``; smoke runs (a limit
    set): ``parity_smoke/<model>/<setting>_train<N>_test<M>``."""
    name = setting_name(model_name, spec)
    if args.limit_train is None and args.limit_test is None:
        return osp.join(RUNS_DIR, model_name, name)
    return osp.join(SMOKE_DIR, model_name,
                    f'{name}_train{args.limit_train or "all"}'
                    f'_test{args.limit_test or "all"}')


def run_path(args, model_name: str, side: str, seed: int) -> str:
    return osp.join(runs_folder(args, model_name, setting(args, model_name)),
                    f'{side}_seed{seed}.json')


def write_json_atomic(path: str, data: dict) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)


def run_one(args) -> None:
    spec = setting(args, args.model)
    torch.set_num_threads(args.threads)
    data_root = args.data_root[args.model]
    limits = _limits(args)
    cpu_before = time.process_time() + _child_cpu_seconds()
    if args.side == 'official':
        result = run_official(args.model, spec, args.seed,
                              args.reference_root[args.model], data_root,
                              limits)
    else:
        smoke = args.limit_train is not None or args.limit_test is not None
        work_dir = args.work_dir or osp.join(
            REPO_ROOT, 'work_dirs', 'parity_smoke' if smoke else 'parity',
            args.model, f'ours_seed{args.seed}_{int(time.time())}')
        result = run_ours(args.model, spec, args.seed, data_root, work_dir,
                          limits, trained=bool(args.work_dir))
    result.update(
        model=args.model, side=args.side, seed=args.seed,
        epochs=spec.epochs, batch=spec.official_batch, dataset=spec.dataset,
        threads=args.threads,
        cpu_seconds=time.process_time() + _child_cpu_seconds() - cpu_before,
        finished=time.strftime('%Y-%m-%d %H:%M:%S'),
        machine=f'{platform.machine()}, {os.cpu_count()} cores, '
        f'torch {torch.__version__}')
    if any(limits.values()):
        result['limits'] = limits
    write_json_atomic(run_path(args, args.model, args.side, args.seed),
                      result)
    print(json.dumps(result['scores'], indent=1))


def _run_command(args, model: str, side: str, seed: int,
                 threads: int) -> List[str]:
    command = [sys.executable, osp.abspath(__file__), 'run', '--model',
               model, '--side', side, '--seed', str(seed), '--threads',
               str(threads)]
    for option, value in (('--epochs', args.epochs), ('--batch', args.batch)):
        if value is not None:
            command += [option, str(value)]
    for key, value in args.reference_root.items():
        command += ['--reference-root', f'{key}={value}']
    for key, value in args.data_root.items():
        command += ['--data-root', f'{key}={value}']
    for option, value in (('--limit-train', args.limit_train),
                          ('--limit-test', args.limit_test)):
        if value is not None:
            command += [option, str(value)]
    return command


def run_all(args) -> None:
    """Every missing (model, seed, side) run, ``--jobs`` at a time, each
    in its own process with ``threads = cores // jobs``."""
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    pending = [(model, side, seed) for model in args.models
               for seed in args.seeds for side in SIDES
               if not osp.isfile(run_path(args, model, side, seed))]
    print(f'{len(pending)} runs to do, {args.jobs} at a time, '
          f'{threads} thread(s) each', flush=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    running: List[Tuple[subprocess.Popen, tuple]] = []
    failed = []
    while pending or running:
        while pending and len(running) < args.jobs:
            run = pending.pop(0)
            model, side, seed = run
            log_path = run_path(args, model, side, seed)[:-5] + '.log'
            os.makedirs(osp.dirname(log_path), exist_ok=True)
            log = open(log_path, 'w')
            running.append((subprocess.Popen(
                _run_command(args, *run, threads), env=env, stdout=log,
                stderr=subprocess.STDOUT), run))
        time.sleep(5)
        for proc, run in list(running):
            if proc.poll() is not None:
                running.remove((proc, run))
                print(f'{run}: exit {proc.returncode}', flush=True)
                if proc.returncode:
                    failed.append(run)
    summarise(args)
    if failed:
        raise SystemExit(f'failed runs (see their .log files): {failed}')


def _mean_std(values: List[float]) -> dict:
    array = np.asarray(values, dtype=float)
    std = float(array.std(ddof=1)) if len(array) > 1 else math.nan
    return dict(mean=float(array.mean()), std=std, n=len(array),
                values=[float(v) for v in array])


def summarise(args) -> None:
    for model in args.models:
        spec = setting(args, model)
        folder = runs_folder(args, model, spec)
        runs = []
        if osp.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if name.endswith('.json'):
                    with open(osp.join(folder, name)) as f:
                        runs.append(json.load(f))
        if not runs:
            print(f'{model}: no runs in {folder}')
            continue
        sides = {}
        for side in SIDES:
            mine = [run for run in runs if run['side'] == side]
            if not mine:
                continue
            entry = dict(seeds=[run['seed'] for run in mine])
            for scoring in SCORINGS:
                entry[scoring] = {
                    key: _mean_std([run['scores'][scoring][key]
                                    for run in mine]) for key in REPORTED}
            for key in ('train_seconds', 'test_seconds', 'cpu_seconds',
                        'seconds_per_iteration'):
                if all(key in run for run in mine):
                    entry[key] = _mean_std([run[key] for run in mine])
            sides[side] = entry
        summary = dict(model=model, spec=dataclasses.asdict(spec),
                       sides=sides, runs=runs)
        write_json_atomic(
            osp.join(osp.dirname(folder),
                     f'parity_{model}_{osp.basename(folder)}.json')
            if folder.startswith(SMOKE_DIR) else
            osp.join(RESULTS_DIR,
                     f'parity_{model}_{setting_name(model, spec)}.json'),
            summary)
        print_table(f'{model}, {spec.epochs} epoch(s) at batch '
                    f'{spec.official_batch}', sides)


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


def _key_values(pairs: Optional[List[str]], option: str) -> Dict[str, str]:
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition('=')
        if not sep or key not in SPECS:
            raise SystemExit(f'{option} {pair!r}: expected MODEL=PATH with '
                             f'MODEL one of {sorted(SPECS)}')
        result[key] = value
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='action', required=True)
    for name in ('run', 'all', 'cross'):
        p = sub.add_parser(name)
        p.add_argument('--reference-root', action='append', metavar='M=DIR',
                       help='checkout of the official code of model M')
        p.add_argument('--data-root', action='append', metavar='M=DIR',
                       help='data set of model M in our split layout')
    sub.add_parser('summary')
    drift_parser = sub.add_parser('drift')
    drift_parser.add_argument('--model', choices=sorted(SPECS), required=True)
    drift_parser.add_argument('--reference-root', action='append',
                              metavar='M=DIR', required=True,
                              help='checkout of the official code of model M')
    drift_parser.add_argument('--data-root', action='append', metavar='M=DIR',
                              required=True,
                              help='data set of model M in our split layout')
    drift_parser.add_argument('--steps', type=int, default=100)
    drift_parser.add_argument('--seed', type=int, default=42)
    drift_parser.add_argument('--probe', type=int, default=32,
                              help='test frames predicted after training')
    drift_parser.add_argument('--threads', type=int, default=1)
    drift_parser.add_argument('--noise-floor', type=int, default=2,
                              metavar='THREADS',
                              help='thread count of the second official run')
    drift_parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        metavar='KEY=VALUE',
        help='changes to our config only, e.g. model.decode_head.'
        'loss_decode.0.through_probability=True (the official BCELoss '
        'clamp)')
    drift_parser.add_argument(
        '--out', default=None, help='default: benchmarks/results/'
        'parity_drift_<model>_seed<S>.json')
    law = sub.add_parser('init-law')
    law.add_argument('--reference-root', action='append', metavar='M=DIR',
                     help='checkout of the official code of model M')
    law.add_argument('--models', nargs='+', choices=sorted(SPECS),
                     default=sorted(SPECS))
    law.add_argument('--seed', type=int, default=0)
    law.add_argument('--out', default=None,
                     help='also write the comparison to this JSON file')
    for p in sub.choices.values():
        p.add_argument('--epochs', type=int, default=None,
                       help='epochs on each side (default: the model\'s '
                       'ParitySpec); results are kept per epoch budget')
        p.add_argument('--batch', type=int, default=None,
                       help='training batch on each side (default: the '
                       'model\'s ParitySpec); results of another batch are '
                       'kept apart (<E>ep_b<B>)')
        for split in ('train', 'test'):
            p.add_argument(f'--limit-{split}', type=int, default=None,
                           metavar='N',
                           help=f'smoke runs only: the first N {split} '
                           'images (by stem) on both sides; results go to '
                           'benchmarks/results/parity_smoke/')
    run = sub.choices['run']
    run.add_argument('--model', choices=sorted(SPECS), required=True)
    run.add_argument('--side', choices=SIDES, required=True)
    run.add_argument('--seed', type=int, required=True)
    run.add_argument('--threads', type=int, default=os.cpu_count())
    run.add_argument('--work-dir', default=None,
                     help='ours only: score the last checkpoint of this '
                     'earlier run of the same setting and seed instead of '
                     'training (a run whose scoring failed)')
    every = sub.choices['all']
    every.add_argument('--models', nargs='+', choices=sorted(SPECS),
                       default=sorted(SPECS))
    every.add_argument('--seeds', nargs='+', type=int, default=[42, 43, 44])
    every.add_argument('--jobs', type=int, default=2)
    cross = sub.choices['cross']
    cross.add_argument('--model', choices=sorted(SPECS), required=True)
    cross.add_argument('--checkpoint', required=True,
                       help='one of our checkpoints of the parity setting')
    cross.add_argument('--out', default=None,
                       help='also write the scores to this JSON file')
    summary = sub.choices['summary']
    summary.add_argument('--models', nargs='+', choices=sorted(SPECS),
                         default=sorted(SPECS))
    args = parser.parse_args(argv)
    for option in ('limit_train', 'limit_test', 'epochs', 'batch'):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            raise SystemExit(f'--{option.replace("_", "-")} must be >= 1')
    if args.action == 'run' and args.work_dir and (
            args.side != 'ours'
            or not osp.isfile(osp.join(args.work_dir, 'last_checkpoint'))):
        raise SystemExit(f'--work-dir {args.work_dir}: needs --side ours and '
                         'a work dir holding a last_checkpoint')
    if args.action == 'cross' and not osp.isfile(args.checkpoint):
        raise SystemExit(f'--checkpoint {args.checkpoint}: no such file')
    if args.action == 'init-law':
        args.reference_root = _key_values(args.reference_root,
                                          '--reference-root')
        for model in args.models:
            if model not in args.reference_root:
                raise SystemExit(f'--reference-root {model}=DIR is needed')
    if args.action == 'drift':
        for option in ('steps', 'probe', 'threads', 'noise_floor'):
            if getattr(args, option) < 1:
                raise SystemExit(f'--{option.replace("_", "-")} must be >= 1')
        if args.noise_floor == args.threads:
            raise SystemExit('--noise-floor must differ from --threads (the '
                             'second official run changes only the rounding)')
        # a run with changed options must not replace the plain run's file
        options = ''.join(f'_{key.rsplit(".", 1)[-1]}-{value}'
                          for key, value in sorted(args.cfg_options.items()))
        args.out = args.out or osp.join(
            RESULTS_DIR,
            f'parity_drift_{args.model}_seed{args.seed}{options}.json')
    if args.action in ('run', 'all', 'cross', 'drift'):
        args.reference_root = _key_values(args.reference_root,
                                          '--reference-root')
        args.data_root = _key_values(args.data_root, '--data-root')
        needed = (args.models if args.action == 'all' else [args.model])
        for model in needed:
            if model not in args.data_root:
                raise SystemExit(f'--data-root {model}=DIR is needed')
            if model not in args.reference_root and (
                    args.action != 'run' or args.side == 'official'):
                raise SystemExit(f'--reference-root {model}=DIR is needed')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.action == 'run':
        run_one(args)
    elif args.action == 'all':
        run_all(args)
    elif args.action == 'cross':
        cross_score(args)
    elif args.action == 'init-law':
        init_law(args)
    elif args.action == 'drift':
        drift(args)
    else:
        summarise(args)


if __name__ == '__main__':
    main()
