"""Transposed (channel) attention with L2-normalised tokens and an
instance-normalised score map, shared by DATransNet's gradient attention and
SCTransNet's spatial-channel cross attention."""
import torch
import torch.nn.functional as F
from torch import Tensor


def transposed_attention(query: Tensor, key: Tensor, value: Tensor,
                         temperature: float) -> Tensor:
    """``softmax(InstanceNorm(q^ k^T / temperature)) v`` over channels.

    q^ and k^ are the query and key L2-normalised along the tokens. The
    scores (B, heads, Cq, Ck) compare channels, not tokens, so the cost is
    linear in the number of tokens N; InstanceNorm (no affine, eps 1e-5)
    standardises each (sample, head) score map before the softmax over the
    key channels.

    Args:
        query (Tensor): (B, heads, Cq, N).
        key (Tensor): (B, heads, Ck, N).
        value (Tensor): (B, heads, Ck, N).
        temperature (float): divisor of the scores.

    Returns:
        Tensor: (B, heads, Cq, N).
    """
    query = F.normalize(query, dim=-1)
    key = F.normalize(key, dim=-1)
    scores = torch.matmul(query, key.transpose(-2, -1))
    scores = F.instance_norm(scores / temperature)
    return torch.matmul(scores.softmax(dim=-1), value)
