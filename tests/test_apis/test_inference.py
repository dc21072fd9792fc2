"""init_model / inference_model on paths and arrays."""
import cv2
import numpy as np
import pytest
import torch

from serankdet.apis import inference_model, init_model
from tests.conftest import REPO_ROOT

CONFIG = f'{REPO_ROOT}/configs/unet/unet_1xb8-800i_synthetic-128x128.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    model = init_model(CONFIG)
    path = tmp_path_factory.mktemp('ckpt') / 'unet.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def test_path_and_array_give_the_same_prediction(checkpoint, tmp_path):
    model = init_model(CONFIG, checkpoint)
    frame = np.random.default_rng(0).integers(0, 255, (37, 50), np.uint8)
    path = str(tmp_path / 'frame.png')
    cv2.imwrite(path, frame)
    from_path = inference_model(model, path)
    from_array = inference_model(model, frame)
    assert from_path.seg_logits.shape == (37, 50)
    assert torch.allclose(from_path.seg_logits.data,
                          from_array.seg_logits.data)
    # a 16-bit frame with the same content scaled is the same input
    frame16 = frame.astype(np.uint16) * 257
    assert torch.allclose(inference_model(model, frame16).seg_logits.data,
                          from_array.seg_logits.data, atol=1e-5)


def test_wrong_checkpoint_is_refused_with_the_keys(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': {'backbone.other.weight': torch.zeros(1)}}, path)
    with pytest.raises(RuntimeError, match='(?s)does not fit.*backbone.other'):
        init_model(CONFIG, str(path))


def test_missing_config_is_named():
    with pytest.raises(FileNotFoundError, match='nope.py'):
        init_model('configs/nope.py')
