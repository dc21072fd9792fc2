"""Layers SCTransNet adds: transposed attention and the channel LayerNorm,
on hand-computed cases."""
import math

import torch

from serankdet.models.layers import LayerNorm2d, transposed_attention


def test_transposed_attention_by_hand():
    # one head; query channel (1, 0) over 2 tokens, key channels e1 and e2
    query = torch.tensor([[[[3.0, 0.0]]]], dtype=torch.float64)
    key = torch.tensor([[[[2.0, 0.0], [0.0, 5.0]]]], dtype=torch.float64)
    value = torch.tensor([[[[1.0, 2.0], [10.0, 20.0]]]],
                         dtype=torch.float64)
    out = transposed_attention(query, key, value, temperature=2.0)
    # normalised scores (1, 0) / 2 = (0.5, 0): InstanceNorm over the 1x2
    # map gives (+a, -a), a = 0.25 / sqrt(0.0625 + 1e-5); softmax
    # (sigmoid(2a), sigmoid(-2a)) weighs the two value channels
    a = 0.25 / math.sqrt(0.0625 + 1e-5)
    first = 1 / (1 + math.exp(-2 * a))
    expected = torch.tensor([[[[first * 1 + (1 - first) * 10,
                                first * 2 + (1 - first) * 20]]]],
                            dtype=torch.float64)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_layer_norm2d_standardises_each_pixel_over_channels():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    norm = LayerNorm2d(3).double()
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 3.0]))
        norm.bias.copy_(torch.tensor([0.0, -1.0, 1.0]))
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, unbiased=False, keepdim=True)
    expected = (x - mean) / torch.sqrt(var + 1e-5) * \
        norm.weight.view(1, 3, 1, 1) + norm.bias.view(1, 3, 1, 1)
    torch.testing.assert_close(norm(x), expected, rtol=1e-12, atol=1e-12)
