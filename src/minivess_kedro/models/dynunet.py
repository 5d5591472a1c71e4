"""MONAI's DynUNet (nnU-Net's architecture) from a plain configuration."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

from monai.networks.nets import DynUNet


@dataclass(frozen=True)
class DynUNetConfig:
    """Architecture of the study's network.

    Attributes:
        in_channels: image channels (1 for two-photon intensity).
        out_channels: classes (2: background, vessel).
        filters: feature maps per level, one level per stride.
        kernel_size: convolution kernel per level (cubic).
        strides: down-sampling per level; level 0 must be 1.
        norm_name: MONAI norm name (``instance``, ``batch``, ...).
        res_block: residual blocks instead of plain double convolutions.
        deep_supervision: extra heads (stacked on dim 1 in train mode).
        deep_supr_num: number of extra heads when ``deep_supervision``.
        dropout: dropout probability, ``None`` for none.
    """

    in_channels: int = 1
    out_channels: int = 2
    filters: tuple[int, ...] = (32, 64, 128, 256)
    kernel_size: int = 3
    strides: tuple[int, ...] = (1, 2, 2, 2)
    norm_name: str = "instance"
    res_block: bool = True
    deep_supervision: bool = False
    deep_supr_num: int = 1
    dropout: float | None = None

    @classmethod
    def from_dict(cls, record: dict) -> DynUNetConfig:
        """The architecture from :meth:`to_dict`'s output (extra keys such as the patch are ignored)."""
        names = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in names}
        return cls(**values)

    def to_dict(self) -> dict:
        """JSON-ready description (logged as the run's model config)."""
        record = asdict(self)
        return {"architecture": "monai.networks.nets.DynUNet", "spatial_dims": 3, **record}


def check_patch_fits(
    patch_size: Sequence[int], strides: Sequence[int], where: str = "training.compute.patch_size"
) -> None:
    """Raises if the patch cannot go through every down-sampling of the network.

    Each side must be a multiple of the product of the strides (8 for 1/2/2/2), so that the
    decoder's up-sampled maps line up with the skip connections.

    Args:
        patch_size: the window ``H x W x D``.
        strides: the network's down-sampling per level.
        where: the parameter's dotted key (its first part names the parameters file).

    Raises:
        ValueError: naming the parameter, the side, the multiple needed and the nearest valid sizes.
    """
    multiple = math.prod(strides)
    problems = []
    for axis, side in zip("HWD", patch_size, strict=True):
        if side % multiple:
            lower, upper = max(multiple, side - side % multiple), side - side % multiple + multiple
            problems.append(f"{axis}={side} (use {lower} or {upper})")
    if problems:
        raise ValueError(
            f"{where} {list(patch_size)} does not fit the network strides {list(strides)}: every side must be a "
            f"multiple of {multiple}; change {', '.join(problems)} in the compute profile "
            f"({where} in conf/<env>/parameters_{where.split('.', maxsplit=1)[0]}.yml)"
        )


def build_dynunet(config: DynUNetConfig) -> DynUNet:
    """Builds a 3D DynUNet from ``config``.

    Args:
        config: the architecture.

    Returns:
        The network, mapping ``B x in_channels x H x W x D`` to logits
        ``B x out_channels x H x W x D`` (eval mode, or no deep supervision).

    Raises:
        ValueError: inconsistent filters/strides or a first stride other than 1.
    """
    return DynUNet(**dynunet_arguments(config))


def dynunet_arguments(config: DynUNetConfig) -> dict:
    """MONAI ``DynUNet``'s keyword arguments for ``config`` (JSON-ready: the exported MONAI
    Bundle's config builds its networks from them).

    Raises:
        ValueError: inconsistent filters/strides or a first stride other than 1.
    """
    if len(config.filters) != len(config.strides):
        raise ValueError(f"filters {config.filters} and strides {config.strides} need one entry per level")
    if config.strides[0] != 1:
        raise ValueError(f"the first stride must be 1 (full-resolution level), got {config.strides[0]}")
    return {
        "spatial_dims": 3,
        "in_channels": config.in_channels,
        "out_channels": config.out_channels,
        "kernel_size": [config.kernel_size] * len(config.strides),
        "strides": list(config.strides),
        "upsample_kernel_size": list(config.strides[1:]),
        "filters": list(config.filters),
        "dropout": config.dropout,
        "norm_name": config.norm_name,
        "deep_supervision": config.deep_supervision,
        "deep_supr_num": config.deep_supr_num,
        "res_block": config.res_block,
    }
