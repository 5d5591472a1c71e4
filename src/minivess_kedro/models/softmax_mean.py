"""The mean of several networks' softmax probabilities, as one module.

Standalone (torch only): the exported MONAI Bundle ships this file as ``scripts/softmax_mean.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class SoftmaxMeanEnsemble(nn.Module):
    """Runs every member on the input and returns the mean of their softmax probabilities.

    One forward pass per member and window: a sliding window over this module blends the
    ensemble's probabilities, so a whole volume never holds one probability map per member.
    TorchScript-ready (the MONAI Bundle's ``model.ts``).

    Args:
        members: networks mapping ``B x C_in x H x W x D`` to ``B x C x H x W x D`` logits.
    """

    #: What :func:`~minivess_kedro.inference.segment.segment_volume` gets: probabilities, not logits.
    outputs_probabilities: bool = True

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member network")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``B x C_in x H x W x D`` -> ``B x C x H x W x D`` mean softmax probability (float32)."""
        probabilities: list[torch.Tensor] = []
        for member in self.members:
            probabilities.append(torch.softmax(member(x).float(), dim=1))
        return torch.stack(probabilities).mean(dim=0)
