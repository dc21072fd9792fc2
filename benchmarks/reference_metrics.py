"""The peers' own metric code, driven as their test scripts drive it.

Used by ``bench_metric.py --reference-root NAME=PATH``. Each peer's metric
file is loaded by path from the user's checkout at run time (no code of
theirs is copied here) and fed the benchmark's predictions and masks in the
layout its test script gives them. Loading one file with
``importlib.util.spec_from_file_location`` skips the package ``__init__`` and
the script-level imports (mmcv 1.x Config, model builders, datasets) that
these checkouts need and that do not install next to mmengine.

A peer class:

* ``prepare(logits, masks)`` (not timed) turns the per-image (H, W) float32
  logits and (H, W) {0, 1} masks into what the peer's test loop receives:
  what the peer's network and DataLoader produce is not part of the metric;
* ``run(inputs)`` (timed) builds the peer's metric objects, updates them
  batch by batch and reads the final values, as in the peer's test script,
  and returns them in our units: IoU / nIoU / Pd fractions, Fa in 1e-6;
* ``compared_to`` maps each value to the :class:`IRSTDMetric` kwargs that
  compute the same definition (bench_metric.py checks they agree).
"""
import importlib.util
import os.path as osp
from types import SimpleNamespace
from typing import Dict, List

import numpy as np
import torch

#: IRSTDMetric kwargs that reproduce the peers' definitions.
OURS_DEFAULT = dict()
# Greedy matching in GT order and nIoU over all images (empty ones score 0).
OURS_LEGACY = dict(legacy=True)
# ... plus the area-keyed Fa de-dup bug of the DNANet lineage (peers.md §2).
OURS_LEGACY_AREA_DEDUP = dict(legacy=True, fa_area_dedup=True)


def describe_config(cfg: dict) -> str:
    """``IRSTDMetric(k=v, ...)``: how a compared value of ours was computed."""
    args = ', '.join(f'{k}={v!r}' for k, v in cfg.items())
    return f'IRSTDMetric({args})'


class ReferenceMetric:
    """One peer's metric file loaded from a checkout ``root``.

    Raises:
        FileNotFoundError: the checkout lacks ``file``.
        AttributeError: the file lacks one of ``names`` (another version).
    """
    name = ''
    #: Metric file, relative to the checkout root.
    file = ''
    #: Classes the test loop uses.
    names = ()
    #: Images per metric update in the peer's test script.
    batch_size = 1
    #: One line: what is timed, and how it follows the peer's test script.
    protocol = ''
    #: Value name -> IRSTDMetric kwargs of the same definition.
    compared_to: Dict[str, dict] = {}

    def __init__(self, root: str):
        self.path = osp.join(osp.abspath(osp.expanduser(root)), self.file)
        if not osp.isfile(self.path):
            raise FileNotFoundError(
                f'{self.name}: expected the metric file {self.path} '
                f'({self.file} of the checkout {root})')
        spec = importlib.util.spec_from_file_location(
            f'_reference_{self.name}_metric', self.path)
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)
        missing = [n for n in self.names if not hasattr(self.module, n)]
        if missing:
            raise AttributeError(
                f'{self.name}: {self.path} has no {", ".join(missing)}: not '
                'the expected version of the file')

    def prepare(self, logits: List[np.ndarray], masks: List[np.ndarray]):
        raise NotImplementedError

    def run(self, inputs) -> Dict[str, float]:
        raise NotImplementedError


class _OneBinHistogramNumpy:
    """numpy, except that ``histogram`` returns a single count 0-d."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def histogram(*args, **kwargs):
        hist, edges = np.histogram(*args, **kwargs)
        return (hist.reshape(()) if hist.size == 1 else hist), edges


class SeRankDetMetric(ReferenceMetric):
    """GrokCV/SeRankDet ``utils/metric.py``, as ``test.py`` drives it.

    test.py updates ``SigmoidMetric()`` (IoU: logit > 0),
    ``SamplewiseSigmoidMetric(1, score_thresh=0.5)`` (nIoU: sigmoid > 0.5)
    and ``PD_FA(1, 10, cfg)`` (11 bins at logit > i * 25.5; element [0],
    logit > 0, is the reported Pd / Fa) with each batch of model logits
    (B, 1, S, S) and ToTensor masks (B, 1, S, S) float32 in {0, 1}, reads
    IoU and nIoU after every batch and ``PD_FA.get(img_num)`` at the end.
    ``ROCMetric`` (pixel ROC and F1) is left out: the timed set is IoU,
    nIoU, Pd and Fa, as in the issue's figure.
    """
    name = 'serankdet'
    file = osp.join('utils', 'metric.py')
    names = ('SigmoidMetric', 'SamplewiseSigmoidMetric', 'PD_FA')
    batch_size = 32  # configs/_base_/datasets/nudt.py test_batch
    protocol = ('SigmoidMetric + SamplewiseSigmoidMetric + PD_FA(bins=10) '
                'on logits, batches of 32')
    compared_to = dict(
        IoU=OURS_DEFAULT,
        nIoU=OURS_LEGACY_AREA_DEDUP,
        Pd=OURS_LEGACY_AREA_DEDUP,
        Fa=OURS_LEGACY_AREA_DEDUP)

    def __init__(self, root: str):
        super().__init__(root)
        # Shim: SamplewiseSigmoidMetric stores np.histogram's one-bin count,
        # a shape (1,) array, into an array element; NumPy >= 2.4 refuses
        # that (deprecated since 1.25). Their module gets a numpy whose
        # one-bin histogram count is 0-d: same values, any NumPy.
        self.module.np = _OneBinHistogramNumpy()

    def prepare(self, logits, masks):
        sizes = {m.shape for m in masks}
        size = next(iter(sizes))
        # PD_FA reshapes every image to crop_size x crop_size and divides Fa
        # by crop_size ** 2 per image: it only scores square images of one
        # size (the reference resizes to it).
        if len(sizes) != 1 or size[0] != size[1]:
            raise ValueError(
                f'{self.name}: PD_FA needs square images of one size, the '
                f'masks have sizes {sorted(sizes)}')
        # Shim: the mmcv 1.x Config that PD_FA reads; only
        # cfg.data['crop_size'] is used.
        self.cfg = SimpleNamespace(data=dict(crop_size=size[0]))
        self.num_images = len(masks)
        batches = []
        for i in range(0, len(masks), self.batch_size):
            preds = np.stack(logits[i:i + self.batch_size])[:, None]
            labels = np.stack(masks[i:i + self.batch_size])[:, None]
            batches.append((torch.from_numpy(preds.astype(np.float32)),
                            torch.from_numpy(labels.astype(np.float32))))
        return batches

    def run(self, batches):
        m = self.module
        iou_metric = m.SigmoidMetric()
        niou_metric = m.SamplewiseSigmoidMetric(1, score_thresh=0.5)
        pd_fa = m.PD_FA(1, 10, self.cfg)
        iou_metric.reset()
        niou_metric.reset()
        pd_fa.reset()
        for preds, labels in batches:
            iou_metric.update(preds, labels)
            niou_metric.update(preds, labels)
            pd_fa.update(preds, labels)
            _, iou = iou_metric.get()
            _, niou = niou_metric.get()
        fa, pd = pd_fa.get(self.num_images)
        return dict(
            IoU=float(iou),
            nIoU=float(niou),
            Pd=float(pd[0]),
            Fa=float(fa[0]) * 1e6)


class BasicIRSTDMetric(ReferenceMetric):
    """XinyiYing/BasicIRSTD ``metrics.py``, as ``test.py`` drives it.

    The network returns probabilities in test mode; per image (DataLoader
    batch 1) test.py crops the padded prediction and mask back to ``size``,
    then calls ``mIoU.update((pred > 0.5).cpu(), gt_mask)`` and
    ``PD_FA.update((pred[0, 0] > 0.5).cpu(), gt_mask[0, 0], size)``, and
    ``get()`` on both at the end. BasicIRSTD has no nIoU; its Fa counts the
    pixels of unmatched components (no area de-dup).
    """
    name = 'basicirstd'
    file = 'metrics.py'
    names = ('mIoU', 'PD_FA')
    batch_size = 1  # test.py DataLoader(batch_size=1)
    protocol = 'mIoU + PD_FA on probabilities > 0.5, one image at a time'
    compared_to = dict(IoU=OURS_DEFAULT, Pd=OURS_LEGACY, Fa=OURS_LEGACY)

    def prepare(self, logits, masks):
        inputs = []
        for logit, mask in zip(logits, masks):
            h, w = mask.shape
            # sigmoid is the network's last layer, not the metric's.
            prob = torch.sigmoid(torch.from_numpy(logit.astype(np.float32)))
            gt = torch.from_numpy(mask.astype(np.float32))
            # Shim: the DataLoader collates the dataset's [h, w] into
            # [tensor([h]), tensor([w])], and PD_FA.get() needs tensors (it
            # calls .cpu() on Fa, a tensor because all_pixel is one). With
            # shape (1,) its final float() fails on NumPy >= 2.4 (deprecated
            # since 1.25), so the sizes are 0-d tensors: same values.
            size = [torch.tensor(h), torch.tensor(w)]
            inputs.append((prob[None, None], gt[None, None], size))
        return inputs

    def run(self, inputs):
        m = self.module
        iou_metric = m.mIoU()
        pd_fa = m.PD_FA()
        for pred, gt_mask, size in inputs:
            pred = pred[:, :, :size[0], :size[1]]
            gt_mask = gt_mask[:, :, :size[0], :size[1]]
            iou_metric.update((pred > 0.5).cpu(), gt_mask)
            pd_fa.update((pred[0, 0, :, :] > 0.5).cpu(), gt_mask[0, 0, :, :],
                         size)
        _, iou = iou_metric.get()
        pd, fa = pd_fa.get()
        return dict(IoU=float(iou), Pd=float(pd), Fa=float(fa) * 1e6)


#: Peers selectable with ``--reference-root NAME=PATH``.
REFERENCES = {cls.name: cls for cls in (SeRankDetMetric, BasicIRSTDMetric)}
