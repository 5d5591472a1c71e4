"""Build any loss of the study by name: ``build_loss(name, **kwargs)``.

Every hyperparameter is a keyword with the spec's default; :func:`loss_defaults` lists them so
that ``parameters_training.yml`` can show and override them. Compound losses take one
``lambda_<term>`` weight per term and one dict of keyword arguments per term, e.g.
``build_loss("vessel_compound", lambda_cldice=0.3, cldice={"iter_": 5})``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from . import monai_losses
from .betti import BettiLoss
from .cbdice import CbDiceLoss
from .centerline_ce import CenterlineCrossEntropyLoss
from .class_balanced import ClassBalancedDiceLoss
from .compound import CompoundLoss, compound_loss
from .topo import TopoNetLoss
from .warp import WarpingLoss

# Every loss of the study, in the study's order: a builder, or for a compound loss its terms
# (term name -> default weight; the terms are themselves registry losses).
_REGISTRY: dict[str, Callable[..., nn.Module] | dict[str, float]] = {
    "dice_ce": monai_losses.dice_ce,
    "cldice": monai_losses.cldice,
    "dice_cldice": monai_losses.dice_cldice,
    "vessel_compound": {"dice_ce": 0.5, "cldice": 0.5},
    "topo_compound": {"dice_ce": 0.4, "cldice": 0.4, "betti": 0.2},
    "betti": BettiLoss,
    "class_balanced": ClassBalancedDiceLoss,
    "focal": monai_losses.focal,
    "cbdice": CbDiceLoss,
    "centerline_ce": CenterlineCrossEntropyLoss,
    "warp": WarpingLoss,
    "topo": TopoNetLoss,
    "cbdice_cldice": {"cbdice": 0.5, "vessel_compound": 0.5},
}
_LEAVES: dict[str, Callable[..., nn.Module]] = {k: v for k, v in _REGISTRY.items() if not isinstance(v, dict)}
_COMPOUNDS: dict[str, dict[str, float]] = {k: v for k, v in _REGISTRY.items() if isinstance(v, dict)}

LOSS_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def _check_name(name: str) -> None:
    if name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {name!r}; valid names: {', '.join(LOSS_NAMES)}")


def _valid_kwargs(name: str) -> list[str]:
    if name in _COMPOUNDS:
        terms = _COMPOUNDS[name]
        return [f"lambda_{term}" for term in terms] + list(terms)
    return list(inspect.signature(_LEAVES[name]).parameters)


def _check_kwargs(name: str, kwargs: Mapping[str, Any]) -> list[str]:
    valid = _valid_kwargs(name)
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(f"unknown kwargs {unknown} for loss {name!r}; valid kwargs: {', '.join(valid)}")
    return valid


def _build_compound(name: str, kwargs: Mapping[str, Any]) -> CompoundLoss:
    terms = {}
    for term, default_weight in _COMPOUNDS[name].items():
        term_kwargs = kwargs.get(term) or {}
        if not isinstance(term_kwargs, Mapping):
            raise ValueError(
                f"kwarg {term!r} of loss {name!r} must be a mapping of {term!r}'s kwargs, got {term_kwargs!r}"
            )
        weight = kwargs.get(f"lambda_{term}", default_weight)
        terms[term] = (weight, build_loss(term, **term_kwargs))
    return compound_loss(terms)


def build_loss(name: str, **kwargs: Any) -> nn.Module:
    """Build a loss of the study by name.

    Args:
        name: one of :data:`LOSS_NAMES`.
        **kwargs: hyperparameters overriding the defaults of :func:`loss_defaults`.

    Returns:
        A module called as ``loss(logits, target)`` with logits ``B x 2 x H x W x D`` and a label
        map ``B x 1 x H x W x D``, returning a scalar. ``warp`` and ``topo`` also have
        ``set_training_progress(fraction)``.

    Raises:
        ValueError: for an unknown name, an unknown kwarg or a bad value, naming the valid options.
    """
    _check_name(name)
    valid = _check_kwargs(name, kwargs)
    try:
        if name in _COMPOUNDS:
            return _build_compound(name, kwargs)
        return _LEAVES[name](**kwargs)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"bad kwargs {dict(kwargs)} for loss {name!r}: {err} (valid kwargs: {', '.join(valid)})"
        ) from err


def loss_defaults(name: str) -> dict[str, Any]:
    """The default kwargs of a loss, as plain YAML-friendly values (tuples become lists).

    Args:
        name: one of :data:`LOSS_NAMES`.

    Returns:
        ``{kwarg: default}``; for a compound loss ``{"lambda_<term>": weight, "<term>": {...}}``.
    """
    _check_name(name)
    if name in _COMPOUNDS:
        weights = {f"lambda_{term}": w for term, w in _COMPOUNDS[name].items()}
        return weights | {term: loss_defaults(term) for term in _COMPOUNDS[name]}
    params = inspect.signature(_LEAVES[name]).parameters.values()
    return {p.name: list(p.default) if isinstance(p.default, tuple) else p.default for p in params}
