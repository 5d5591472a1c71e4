"""The study's losses that MONAI already has, with the study's defaults (see the spec)."""

from __future__ import annotations

from collections.abc import Sequence

from monai.losses import DiceCELoss, FocalLoss, SoftclDiceLoss, SoftDiceclDiceLoss

from .monai_adapter import MonaiLoss


def dice_ce(
    *,
    include_background: bool = True,
    lambda_dice: float = 1.0,
    lambda_ce: float = 1.0,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    batch: bool = False,
) -> MonaiLoss:
    """``dice_ce`` (L1, baseline): MONAI ``DiceCELoss`` on softmax and one-hot labels."""
    return MonaiLoss(
        DiceCELoss(
            to_onehot_y=True,
            softmax=True,
            include_background=include_background,
            lambda_dice=lambda_dice,
            lambda_ce=lambda_ce,
            smooth_nr=smooth_nr,
            smooth_dr=smooth_dr,
            batch=batch,
        )
    )


def cldice(
    *,
    iter_: int = 3,
    smooth_nr: float = 1.0,
    smooth_dr: float = 1.0,
    smooth: float = 1e-4,
    include_background: bool = False,
) -> MonaiLoss:
    """``cldice`` (L2): MONAI ``SoftclDiceLoss``; background excluded (it would dominate)."""
    return MonaiLoss(
        SoftclDiceLoss(
            iter_=iter_,
            smooth_nr=smooth_nr,
            smooth_dr=smooth_dr,
            smooth=smooth,
            include_background=include_background,
            to_onehot_y=True,
            softmax=True,
        )
    )


def dice_cldice(
    *,
    iter_: int = 3,
    alpha: float = 0.5,
    smooth_nr: float = 1.0,
    smooth_dr: float = 1.0,
    smooth: float = 1e-4,
    include_background: bool = False,
) -> MonaiLoss:
    """``dice_cldice`` (L3): MONAI ``SoftDiceclDiceLoss``, ``(1 - alpha) Dice + alpha clDice``."""
    return MonaiLoss(
        SoftDiceclDiceLoss(
            iter_=iter_,
            alpha=alpha,
            smooth_nr=smooth_nr,
            smooth_dr=smooth_dr,
            smooth=smooth,
            include_background=include_background,
            to_onehot_y=True,
            softmax=True,
        )
    )


def focal(
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    weight: Sequence[float] | None = None,
    include_background: bool = True,
) -> MonaiLoss:
    """``focal`` (L8): MONAI ``FocalLoss`` with softmax (MONAI's default would be sigmoid)."""
    return MonaiLoss(
        FocalLoss(
            gamma=gamma,
            alpha=alpha,
            weight=weight,
            include_background=include_background,
            to_onehot_y=True,
            use_softmax=True,
        )
    )
