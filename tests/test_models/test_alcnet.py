"""ALCNet as BasicIRSTD builds it (ASKCResNetFPN): fidelity to the official
golden vectors, converter (unused modules dropped), configs."""
import pytest
from mmengine.config import Config

from serankdet.apis.conversion import convert_state_dict
from serankdet.models.converters.basicirstd import map_alcnet_key
from serankdet.registry import MODELS
from .basicirstd_golden import (BASICIRSTD_DATASETS, check_config,
                                check_eval_outputs, check_train_forward,
                                config_path, converted_model,
                                count_parameters, official_checkpoint)
from .golden_utils import (assert_conversion_fails, load_golden,
                           reference_state_dict)

UNUSED_NOTE = ('dropped 96 keys: built by the reference but never used in '
               'its forward (ASKCResNetFPN uplayer1/uplayer2); not part of '
               'the model')


@pytest.fixture(scope='module')
def golden():
    return load_golden('alcnet')


@pytest.fixture
def converted(golden, tmp_path):
    return converted_model('alcnet', golden, tmp_path)


def test_converter_drops_unused_layers_with_a_note(golden, converted):
    model, notes = converted
    # uplayer1/uplayer2: 8 basic blocks x 12 entries, never run
    assert notes == [UNUSED_NOTE]
    assert len(golden['shapes']) == 359
    assert len(model.state_dict()) == 359 - 96


def test_eval_outputs_match_reference(golden, converted):
    check_eval_outputs(converted[0], golden)
    assert golden['head_logits'].shape == (2, 1, 32, 32)  # head at 1/2


def test_train_forward_matches_reference(golden, converted):
    # 41 BatchNorms the forward runs x (mean, var, count)
    assert check_train_forward(converted[0], golden, map_alcnet_key) == 123


def test_parameter_count_matches_reference(golden):
    model = MODELS.build(Config.fromfile(config_path('alcnet')).model)
    # BasicIRSTD reports 0.427M (thop counts the modules that run)
    assert count_parameters(model) == golden['meta']['params_used'] == 426961
    assert golden['meta']['params'] == 426961 + 92928  # with the uplayers


@pytest.mark.parametrize('prefix', ['', 'module.model.'])
def test_converter_accepts_bare_and_wrapped_keys(golden, prefix):
    reference = {
        prefix + k: v
        for k, v in reference_state_dict(golden).items()
    }
    state_dict, notes = convert_state_dict('alcnet', reference)
    assert notes == [UNUSED_NOTE]
    assert state_dict['neck.fusions.0.post.0.weight'] is \
        reference[prefix + 'fuse12.post.0.weight']
    assert state_dict['neck.fusions.1.bottom_up.4.running_mean'] is \
        reference[prefix + 'fuse23.bottomup.4.running_mean']
    assert state_dict['neck.out_conv.bias'] is \
        reference[prefix + 'deconv0.bias']


def test_converter_rejects_acm_checkpoint():
    acm = official_checkpoint(load_golden('acm'))['state_dict']
    assert_conversion_fails(
        'alcnet', acm, 'not a "alcnet" checkpoint',
        'reference keys without a mapping:\n  model.fuse2.topdown.1.weight',
        'model keys missing from the reference:\n  '
        'backbone.stages.0.3.bn1.bias',
        'decode_head.conv_seg.weight: reference (1, 4, 1, 1) vs ours '
        '(1, 2, 1, 1)')


@pytest.mark.parametrize('dataset', BASICIRSTD_DATASETS)
def test_configs_follow_basicirstd_recipe(dataset):
    check_config(config_path('alcnet', dataset), dataset)
