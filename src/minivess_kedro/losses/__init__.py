"""The loss functions of the study (plain PyTorch/MONAI: no kedro, no mlflow).

``build_loss(name, **kwargs)`` builds any of :data:`LOSS_NAMES`; every loss is called as
``loss(logits, target)`` with logits ``B x 2 x H x W x D`` and a label map
``B x 1 x H x W x D`` and returns a scalar. See ``docs/losses.md``.
"""

from .base import SegmentationLoss, TrainingProgressMixin
from .betti import BettiLoss
from .cbdice import CbDiceLoss, cbdice_term
from .centerline_ce import CenterlineCrossEntropyLoss
from .class_balanced import ClassBalancedDiceLoss
from .compound import CompoundLoss
from .monai_adapter import MonaiLoss
from .registry import LOSS_NAMES, build_loss, loss_defaults
from .topo import TopoNetLoss
from .warp import WarpingLoss

__all__ = [
    "LOSS_NAMES",
    "BettiLoss",
    "CbDiceLoss",
    "CenterlineCrossEntropyLoss",
    "ClassBalancedDiceLoss",
    "CompoundLoss",
    "MonaiLoss",
    "SegmentationLoss",
    "TopoNetLoss",
    "TrainingProgressMixin",
    "WarpingLoss",
    "build_loss",
    "cbdice_term",
    "loss_defaults",
]
