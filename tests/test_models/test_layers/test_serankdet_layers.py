"""SeRankDet building blocks against the reference module cases.

``serankdet_modules.pt`` holds, per reference module, its state dict (keys
relative to the module), inputs and outputs in float32 and float64. The
state dicts go through the official-checkpoint key mapping, so these cases
also check the converter rule of every block type.
"""
import os.path as osp

import pytest
import torch

from serankdet.models.converters.serankdet import map_serankdet_key
from serankdet.models.layers import (LSFF, CentralDifferenceConv2d, DDCBlock,
                                     SeRankAttention)
from serankdet.models.necks.lsff_decoder import UpConv, decoder_block

# case -> (builder from the reference ctor args, official key prefix of one
# instance, our key prefix of that instance)
CASES = {
    'ddc_cdc_conv': (lambda i, o: CentralDifferenceConv2d(i, o, 3, padding=1),
                     'Conv1.cdc_layer.0.', 'backbone.stages.0.'
                     'difference_branch.0.'),
    'ddc_block': (DDCBlock, 'Conv1.', 'backbone.stages.0.'),
    'decoder_block': (decoder_block, 'Up_conv2.', 'neck.blocks.0.'),
    'up_conv': (UpConv, 'Up2.', 'neck.ups.0.'),
    'lsff_neck': (lambda c, _: LSFF(c), 'neck2.', 'neck.fusions.0.'),
    # reference MaxChannel(K, K); the channels come from the input
    'serank_stage1': (None, 'max_channel1.', 'backbone.attentions.0.'),
    'serank_stage4': (None, 'max_channel4.', 'backbone.attentions.3.'),
    'serank_stage5': (None, 'max_channel5.', 'backbone.attentions.4.'),
}


@pytest.fixture(scope='module')
def module_cases(golden_dir):
    return torch.load(osp.join(golden_dir, 'serankdet_modules.pt'),
                      weights_only=True)['modules']


def build_case(case, name, per_sample_norm=False):
    builder, ref_prefix, our_prefix = CASES[name]
    if builder is None:
        topk = case['ctor_args'][0]
        module = SeRankAttention(case['inputs'][0].shape[1], topk,
                                 per_sample_norm)
    else:
        module = builder(*case['ctor_args'])
    state = {}
    for key, value in case['state_dict'].items():
        ours = map_serankdet_key(ref_prefix + key)
        assert ours is not None and ours.startswith(our_prefix), key
        state[ours[len(our_prefix):]] = value
    module.load_state_dict(state, strict=True)
    return module


def run(module, inputs, mode, dtype):
    module = module.to(dtype).train(mode == 'train')
    with torch.no_grad():
        return module(*(x.to(dtype) for x in inputs))


@pytest.mark.parametrize('name', sorted(CASES))
def test_module_case_matches_reference(module_cases, name):
    torch.set_num_threads(1)
    case = module_cases[name]
    for mode in ('eval', 'train'):
        if f'{mode}_output' not in case:
            continue
        # float64: only summation order differs from the reference
        out = run(build_case(case, name), case['inputs'], mode, torch.float64)
        torch.testing.assert_close(out, case[f'{mode}_output_f64'],
                                   atol=1e-9, rtol=1e-9)
        out = run(build_case(case, name), case['inputs'], mode, torch.float32)
        torch.testing.assert_close(out, case[f'{mode}_output'], atol=2e-5,
                                   rtol=1e-5)


@pytest.mark.parametrize('name', ['serank_stage4', 'serank_stage5'])
def test_serank_batch_dependence(module_cases, name):
    """Reference standardisation couples the samples; per-sample does not."""
    case = module_cases[name]
    batch = case['inputs'][0].double()
    # reference mode: the golden batch output is reproduced above, and
    # sample 0 alone gives a different result
    reference = build_case(case, name).double().eval()
    with torch.no_grad():
        alone = reference(batch[:1])
    assert (alone - case['eval_output_f64'][:1]).abs().max() > 1e-4

    per_sample = build_case(case, name, per_sample_norm=True).double().eval()
    with torch.no_grad():
        in_batch = per_sample(batch)
        alone = per_sample(batch[:1])
    torch.testing.assert_close(alone, in_batch[:1], atol=1e-12, rtol=1e-12)
    # per-sample standardisation is a different function of the batch
    assert (in_batch - case['eval_output_f64']).abs().max() > 1e-4


def test_difference_conv_equals_two_conv_definition():
    """conv(x; W, b) - theta * conv1x1(x; sum W, b), stride 2, dilation 2."""
    torch.manual_seed(0)
    conv = CentralDifferenceConv2d(3, 4, 3, stride=2, padding=2, dilation=2,
                                   theta=0.7).double()
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64)
    plain = torch.nn.functional.conv2d(x, conv.weight, conv.bias, 2, 2, 2)
    diff = torch.nn.functional.conv2d(
        x, conv.weight.sum((2, 3), keepdim=True), conv.bias, 2)
    torch.testing.assert_close(conv(x), plain - 0.7 * diff)


def test_difference_conv_rejects_unpadded_kernel():
    with pytest.raises(ValueError, match='"same" padding'):
        CentralDifferenceConv2d(3, 4, 3, padding=0)


def test_serank_input_checks():
    attention = SeRankAttention(8, 16)
    with pytest.raises(ValueError, match=r'H\*W >= 16'):
        attention(torch.rand(1, 8, 3, 4))
    with pytest.raises(ValueError, match='H, W <= 16'):
        attention(torch.rand(1, 8, 2, 32))
    with pytest.raises(ValueError, match='expects 8 channels'):
        attention(torch.rand(1, 4, 8, 8))


def test_lowest_index_tie_break_selects_the_first_of_equal_values():
    """Row 0: K=4 of [5, 0, 0, 7, 0, 0, 3, 0]: 7, 5, 3 and the first 0
    (index 1); row 1 has no tie at the K-th value: topk's selection."""
    attention = SeRankAttention(2, 4, tie_break='lowest_index')
    flat = torch.tensor([[[5., 0, 0, 7, 0, 0, 3, 0],
                          [1., 8, 2, 9, 4, 3, 6, 5]]])
    assert attention.lowest_index_topk(flat).tolist() == [[[0, 1, 3, 6],
                                                           [1, 3, 6, 7]]]
    # on random rows (no ties) both rules select the same pixels
    rows = torch.randn(3, 8, 16 * 16)
    reference = SeRankAttention(8, 16)
    assert torch.equal(
        SeRankAttention(8, 16, tie_break='lowest_index').lowest_index_topk(
            rows), rows.topk(16, dim=2).indices.sort(dim=2).values)
    x = torch.relu(torch.randn(2, 8, 16, 16) - 1.5)  # most values tied at 0
    lowest = SeRankAttention(8, 16, tie_break='lowest_index')
    lowest.load_state_dict(reference.state_dict())
    stable = x.flatten(2).sort(dim=2, descending=True, stable=True)
    expected = stable.indices[..., :16].sort(dim=2).values
    assert torch.equal(lowest.lowest_index_topk(x.flatten(2)), expected)
    with pytest.raises(ValueError, match="tie_break must be one of"):
        SeRankAttention(8, 16, tie_break='random')


def test_lowest_index_tie_break_equals_the_exported_graph(tmp_path):
    """ONNX's TopK takes the lowest index first: with tie_break=
    'lowest_index' the module equals its ONNX Runtime graph on an input
    full of ties, where the reference's topk order differs."""
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    torch.manual_seed(0)
    module = SeRankAttention(8, 16, tie_break='lowest_index').eval()
    x = torch.relu(torch.randn(1, 8, 16, 16) - 1.5)
    path = str(tmp_path / 'serank.onnx')
    torch.onnx.export(module, (x, ), path, dynamo=False)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    graph = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    reference = SeRankAttention(8, 16).eval()
    reference.load_state_dict(module.state_dict())
    with torch.no_grad():
        assert torch.allclose(module(x), torch.from_numpy(graph), atol=1e-5)
        assert (reference(x) - torch.from_numpy(graph)).abs().max() > 0.1
