"""What the ACM and ALCNet tests share: the golden files of BasicIRSTD's
official networks (``benchmarks/golden/basicirstd_golden.py``) as official
checkpoints, the model converted from them, the comparisons, and the
BasicIRSTD recipe of the configs."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from serankdet.registry import MODELS
from .golden_utils import (ATOL_F64, CONFIG_DIR, assert_buffers_match,
                           assert_maps_close, build_model,
                           converted_checkpoint, reference_state_dict)

# BasicIRSTD's per-dataset gray-level statistics (utils.get_img_norm_cfg)
DATASET_STATS = {
    'sirst': (101.06385040283203, 34.619606018066406),
    'nudt-sirst': (107.80905151367188, 33.02274703979492),
    'irstd1k': (87.4661865234375, 39.71953201293945),
}
BASICIRSTD_DATASETS = list(DATASET_STATS)


def config_path(name: str, dataset: str = 'nudt-sirst') -> str:
    return osp.join(CONFIG_DIR, name,
                    f'{name}_1xb16-400e_{dataset}-256x256.py')


def official_checkpoint(golden: dict) -> dict:
    """What BasicIRSTD's ``train.py`` saves: its ``Net`` wrapper's state
    dict (the network as ``.model``), the epoch and the loss history."""
    return dict(epoch=400, total_loss=[0.9, 0.5],
                state_dict={f'model.{k}': v
                            for k, v in reference_state_dict(golden).items()})


def converted_model(name: str, golden: dict, folder) -> tuple:
    """Our model (float64) with the golden weights converted from an
    official checkpoint file; and the converter's notes."""
    converted = converted_checkpoint(name, official_checkpoint(golden),
                                     folder, f'{name}_400.pth.tar')
    model = build_model(config_path(name), converted['state_dict'],
                        torch.float64)
    return model, converted['notes']


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
    # no deep supervision
    assert_maps_close(head_logits, [golden['head_logits']])
    assert_maps_close([logits.sigmoid()], [golden['output']])


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
    assert_maps_close([logits.sigmoid()], [golden['train_output']])
    compared = assert_buffers_match(
        model, golden['bn_buffers_after_train_forward'], map_key)

    model.load_state_dict(start)
    torch.manual_seed(golden['meta']['train_seed'])
    with torch.no_grad():
        outputs = model.forward_outputs(inputs)
        losses = model.decode_head.loss_by_outputs(outputs,
                                                   golden['train_target'])
    assert_maps_close(outputs, [golden['train_head_logits']])
    assert set(losses) == {'loss_softiou'}
    torch.testing.assert_close(losses['loss_softiou'], golden['train_loss'],
                               atol=ATOL_F64, rtol=0)
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
        'Pad', 'TargetBiasedRandomCrop', 'RandomFlip', 'RandomFlip',
        'RandomTranspose'
    ]
    assert pipeline[2]['pad_val'] == dict(img=round(mean), seg=0)
    # BasicIRSTD's random_crop(img, mask, 256, pos_prob=0.5)
    assert (pipeline[3]['crop_size'], pipeline[3]['target_prob'],
            pipeline[3]['rule']) == ((256, 256), 0.5, 'around_pixel')
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
