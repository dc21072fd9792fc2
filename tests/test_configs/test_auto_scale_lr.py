"""Every config states the total batch its learning rate is set for
(``auto_scale_lr.base_batch_size``, what ``tools/train.py --auto-scale-lr``
scales from): the batch of its name's ``<GPUs>xb<batch per GPU>``."""
import pytest
from mmengine.config import Config

from tests.test_configs.test_config_snapshot import (CONFIG_DIR, NAME_BATCH,
                                                     config_names,
                                                     name_total_batch)


@pytest.mark.parametrize('name', config_names())
def test_base_batch_size_is_the_named_total_batch(name):
    cfg = Config.fromfile(f'{CONFIG_DIR}/{name}')
    total = name_total_batch(name)
    gpus = int(NAME_BATCH.search(name).group(1))
    assert cfg.train_dataloader.batch_size * gpus == total
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=total)
