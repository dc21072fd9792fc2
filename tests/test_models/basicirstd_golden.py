"""What the ACM and ALCNet tests share: the golden files of BasicIRSTD's
official networks (``benchmarks/golden/basicirstd_golden.py``), the
regeneration of their weights, and the model built from our config."""
import math
import os.path as osp
import zlib

import pytest
import torch
from mmengine.config import Config

from serankdet.models.converters import convert_checkpoint
from serankdet.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOLDEN_DIR = osp.join(REPO_ROOT, 'tests', 'data', 'golden')
# float64 end to end: differences are rounding only
ATOL = 1e-10
# BasicIRSTD's per-dataset gray-level statistics (utils.get_img_norm_cfg)
DATASET_STATS = {
    'sirst': (101.06385040283203, 34.619606018066406),
    'nudt-sirst': (107.80905151367188, 33.02274703979492),
    'irstd1k': (87.4661865234375, 39.71953201293945),
}
BASICIRSTD_DATASETS = list(DATASET_STATS)


def config_path(name: str, dataset: str = 'nudt-sirst') -> str:
    return osp.join(REPO_ROOT, 'configs', name,
                    f'{name}_1xb16-400e_{dataset}-256x256.py')


def load_golden(name: str) -> dict:
    return torch.load(osp.join(GOLDEN_DIR, f'{name}.pt'), weights_only=True,
                      map_location='cpu')


def golden_value(key: str, shape) -> torch.Tensor:
    """The golden weight of ``key``, as ``meta['recipe']`` says."""
    rng = torch.Generator().manual_seed(zlib.crc32(key.encode('utf-8')))
    shape = tuple(shape)
    if len(shape) >= 2:
        return torch.randn(shape, generator=rng, dtype=torch.float64) / \
            math.sqrt(math.prod(shape[1:]))
    if key.endswith('running_var'):
        return 0.5 + torch.rand(shape, generator=rng, dtype=torch.float64)
    if key.endswith('weight'):
        return 1 + 0.2 * torch.randn(shape, generator=rng,
                                     dtype=torch.float64)
    return 0.1 * torch.randn(shape, generator=rng, dtype=torch.float64)


def official_state_dict(golden: dict) -> dict:
    """The official network's state dict (its own key names), regenerated
    and checked against the stored checksums."""
    state = {}
    for key, shape in golden['shapes'].items():
        if key not in golden['generated_checksums']:
            assert key.endswith('num_batches_tracked'), key
            state[key] = torch.zeros(shape, dtype=torch.long)
            continue
        value = golden_value(key, shape)
        total, abs_total = golden['generated_checksums'][key]
        assert math.isclose(value.sum().item(), total,
                            abs_tol=1e-9 * abs_total + 1e-12), key
        assert math.isclose(value.abs().sum().item(), abs_total,
                            rel_tol=1e-12), key
        state[key] = value
    return state


def official_checkpoint(golden: dict) -> dict:
    """What BasicIRSTD's ``train.py`` saves: its ``Net`` wrapper's state
    dict (the network as ``.model``), the epoch and the loss history."""
    return dict(epoch=400, total_loss=[0.9, 0.5],
                state_dict={f'model.{k}': v
                            for k, v in official_state_dict(golden).items()})


def converted_model(name: str, golden: dict, folder) -> tuple:
    """Our model (float64) with the golden weights converted from an
    official checkpoint file; and the converter's notes."""
    src, dst = folder / f'{name}_400.pth.tar', folder / 'converted.pth'
    torch.save(official_checkpoint(golden), src)
    notes = convert_checkpoint(name, str(src), str(dst))
    # float64 before loading: loading casts to the model's dtype
    model = MODELS.build(Config.fromfile(config_path(name)).model).double()
    model.load_state_dict(
        torch.load(dst, weights_only=True)['state_dict'], strict=True)
    return model, notes


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def check_eval_outputs(model, golden: dict) -> None:
    """Eval mode: our head logits and our main output (sigmoid, at input
    size) equal the official ones."""
    model.eval()
    inputs = golden['input'].double()
    with torch.no_grad():
        head_logits = model.forward_outputs(inputs)
        logits = model(inputs, mode='tensor')
    assert len(head_logits) == 1  # no deep supervision
    torch.testing.assert_close(head_logits[0], golden['head_logits'],
                               atol=ATOL, rtol=0)
    assert logits.shape == golden['output'].shape
    torch.testing.assert_close(logits.sigmoid(), golden['output'],
                               atol=ATOL, rtol=0)


def check_train_forward(model, golden: dict, map_key) -> int:
    """Train mode with the golden dropout seed: output, BN buffers after
    the forward, then (same seed, same start) the head logits and the
    batch soft-IoU loss equal the official ones. Returns the number of BN
    buffers compared (those of modules we build)."""
    start = {k: v.clone() for k, v in model.state_dict().items()}
    inputs = golden['train_input'].double()
    model.train()
    torch.manual_seed(golden['meta']['train_seed'])
    with torch.no_grad():
        logits = model(inputs, mode='tensor')
    torch.testing.assert_close(logits.sigmoid(), golden['train_output'],
                               atol=ATOL, rtol=0)
    ours = model.state_dict()
    reference = golden['bn_buffers_after_train_forward']
    compared = 0
    for key, value in reference.items():
        if map_key(key) is None:  # a module the reference never runs
            continue
        torch.testing.assert_close(ours[map_key(key)], value, atol=ATOL,
                                   rtol=0, msg=lambda m: f'{key}: {m}')
        compared += 1

    model.load_state_dict(start)
    torch.manual_seed(golden['meta']['train_seed'])
    with torch.no_grad():
        outputs = model.forward_outputs(inputs)
        losses = model.decode_head.loss_by_outputs(outputs,
                                                   golden['train_target'])
    torch.testing.assert_close(outputs[0], golden['train_head_logits'],
                               atol=ATOL, rtol=0)
    assert set(losses) == {'loss_softiou'}
    torch.testing.assert_close(losses['loss_softiou'], golden['train_loss'],
                               atol=ATOL, rtol=0)
    return compared


def check_config(path: str, dataset: str) -> None:
    """A config trains and tests as BasicIRSTD's ``train.py`` defaults."""
    cfg = Config.fromfile(path)
    mean, std = DATASET_STATS[dataset]
    preprocessor = cfg.model.data_preprocessor
    assert preprocessor.mean[0] * 255 == pytest.approx(mean, abs=1e-9)
    assert preprocessor.std[0] * 255 == pytest.approx(std, abs=1e-9)
    assert preprocessor.size_divisor == 32
    assert cfg.train_dataloader.batch_size == 16
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipeline[2:-1]] == [
        'Pad', 'RandomCrop', 'RandomFlip', 'RandomFlip', 'RandomTranspose'
    ]
    assert pipeline[2]['pad_val'] == dict(img=round(mean), seg=0)
    assert pipeline[3]['crop_size'] == (256, 256)
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == 5e-4
    assert cfg.param_scheduler == [
        dict(type='MultiStepLR', by_epoch=True, milestones=[200, 300],
             gamma=0.1, begin=0, end=400)
    ]
    assert cfg.train_cfg.max_epochs == 400
    assert cfg.model.decode_head.loss_decode == dict(type='SoftIoULoss',
                                                     reduction='batch')
    assert cfg.model.decode_head.threshold == 0.5
    MODELS.build(cfg.model)
