"""The project's soft skeleton equals MONAI's ``soft_skel`` (values and gradients)."""

from __future__ import annotations

import pytest
import torch
from monai.losses.cldice import soft_skel

from minivess_kedro.topology.soft_skeleton import soft_skeleton


@pytest.mark.parametrize("shape", [(2, 2, 12, 10, 8), (1, 1, 3, 7, 4), (1, 2, 5, 1, 6)])
@pytest.mark.parametrize("iter_", [0, 3, 10])
def test_equals_monai_on_soft_and_binary_inputs(shape, iter_):
    gen = torch.Generator().manual_seed(0)
    soft = torch.rand(shape, generator=gen, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(shape, generator=gen, dtype=torch.float64)
    ours, theirs = soft_skeleton(soft, iter_), soft_skel(soft, iter_)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    (grad_ours,) = torch.autograd.grad((ours * weights).sum(), soft)
    (grad_theirs,) = torch.autograd.grad((theirs * weights).sum(), soft)
    torch.testing.assert_close(grad_ours, grad_theirs)
    binary = (torch.rand(shape, generator=gen) > 0.4).float()
    with torch.no_grad():  # the shifted-view path
        torch.testing.assert_close(soft_skeleton(binary, iter_), soft_skel(binary, iter_))
        torch.testing.assert_close(soft_skeleton(soft, iter_), theirs.detach())


def test_all_foreground_has_an_empty_skeleton():
    assert soft_skeleton(torch.ones(1, 1, 6, 6, 4), 10).abs().max() == 0
