"""ACM (BasicIRSTD's ASKCResUNet): fidelity to the official golden vectors,
converter, configs, errors."""
import pytest
import torch
from mmengine.config import Config

from serankdet.apis.conversion import convert_state_dict
from serankdet.models.converters.basicirstd import map_acm_key
from serankdet.registry import MODELS
from .basicirstd_golden import (BASICIRSTD_DATASETS, check_config,
                                check_eval_outputs, check_train_forward,
                                config_path, converted_model,
                                count_parameters, official_checkpoint)
from .golden_utils import (assert_conversion_fails, assert_input_rejected,
                           load_golden, perturbed_state,
                           reference_state_dict)


@pytest.fixture(scope='module')
def golden():
    return load_golden('acm')


@pytest.fixture
def converted(golden, tmp_path):
    return converted_model('acm', golden, tmp_path)


def test_converter_maps_every_official_key(golden, converted):
    model, notes = converted
    assert notes == []
    assert len(model.state_dict()) == len(golden['shapes']) == 297


def test_eval_outputs_match_reference(golden, converted):
    check_eval_outputs(converted[0], golden)
    assert golden['head_logits'].shape == (2, 1, 16, 16)  # head at 1/4


def test_train_forward_matches_reference(golden, converted):
    # 47 BatchNorms x (mean, var, count)
    assert check_train_forward(converted[0], golden, map_acm_key) == 141


def test_parameter_count_matches_reference(golden):
    model = MODELS.build(Config.fromfile(config_path('acm')).model)
    assert count_parameters(model) == golden['meta']['params'] == 397823


@pytest.mark.parametrize('prefix', ['', 'module.model.'])
def test_converter_accepts_bare_and_wrapped_keys(golden, prefix):
    reference = {
        prefix + k: v
        for k, v in reference_state_dict(golden).items()
    }
    state_dict, notes = convert_state_dict('acm', reference)
    assert notes == []
    assert state_dict['neck.fusions.1.top_down.1.weight'] is \
        reference[prefix + 'fuse2.topdown.1.weight']
    assert state_dict['neck.res_layers.0.2.bn2.running_var'] is \
        reference[prefix + 'uplayer1.2.bn2.running_var']


def test_converter_rejects_alcnet_and_foreign_checkpoints(golden):
    alcnet = official_checkpoint(load_golden('alcnet'))['state_dict']
    assert_conversion_fails(
        'acm', alcnet, 'not a "acm" checkpoint',
        # 4-block stages, fuse12/fuse23, deconv0; unused uplayers not dropped
        '132 reference keys without a mapping',
        'model.layer1.3.conv1.weight (-> backbone.stages.0.3.conv1.weight, '
        'not in our model)',
        'model keys missing from the reference:\n  '
        'neck.fusions.0.bottom_up.0.bias')

    wrong_width = perturbed_state(
        official_checkpoint(golden)['state_dict'],
        zeroed={'model.head.block.4.weight': (2, 4, 1, 1)})
    assert_conversion_fails(
        'acm', wrong_width, 'decode_head.conv_seg.weight: reference '
        '(2, 4, 1, 1) vs ours (1, 4, 1, 1)')


@pytest.mark.parametrize('dataset', BASICIRSTD_DATASETS)
def test_configs_follow_basicirstd_recipe(dataset):
    check_config(config_path('acm', dataset), dataset)


@pytest.mark.parametrize('size', [40, 72])
def test_input_side_not_multiple_of_16_raises(size):
    assert_input_rejected(
        config_path('acm'), (1, 1, size, 64), 'input sides must be multiples '
        r'of 16; pad the input \(data_preprocessor.size_divisor')


def test_init_keeps_pytorch_default_initialisation():
    """BasicIRSTD trains from PyTorch's default init (no init function)."""
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config_path('acm')).model)
    model.init_weights()
    # kaiming_uniform(a=sqrt(5)): weights within +-1/sqrt(fan_in)
    conv = model.backbone.stages[1][0].conv1
    bound = 1 / (16 * 9)**0.5
    assert conv.weight.abs().max() <= bound
    assert conv.weight.abs().max() > 0.9 * bound
    assert model.backbone.stem[0].momentum == 0.9
    assert model.backbone.stages[0][0].bn1.momentum == 0.1
    assert model.decode_head.conv[1].momentum == 0.9
