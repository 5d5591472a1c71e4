"""The fold ensemble: the mean of several trained networks' softmax probabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from minivess_kedro.models.dynunet import DynUNetConfig, build_dynunet
from minivess_kedro.models.softmax_mean import SoftmaxMeanEnsemble

__all__ = ["SoftmaxMeanEnsemble", "build_ensemble", "build_network"]


def build_ensemble(model_config: Mapping, member_states: Sequence[Mapping[str, torch.Tensor]]) -> SoftmaxMeanEnsemble:
    """One DynUNet of ``model_config`` per state dict, in eval mode.

    Raises:
        ValueError: a member whose weights do not fit the configuration (names it by position).
    """
    config = DynUNetConfig.from_dict(dict(model_config))
    members = []
    for index, state in enumerate(member_states):
        network = build_dynunet(config)
        try:
            network.load_state_dict(state)
        except RuntimeError as err:
            raise ValueError(f"ensemble member {index}: its weights do not fit the model config ({err})") from err
        members.append(network)
    return SoftmaxMeanEnsemble(members).eval()


def build_network(
    model_config: Mapping, member_states: Sequence[Mapping[str, torch.Tensor]], ensemble: bool
) -> torch.nn.Module:
    """A registered version's network, in eval mode: the ensemble of its members (mean softmax),
    or, for one training run's version, the DynUNet itself (logits).

    Raises:
        ValueError: weights that do not fit the configuration.
    """
    if ensemble:
        return build_ensemble(model_config, member_states)
    network = build_dynunet(DynUNetConfig.from_dict(dict(model_config)))
    try:
        network.load_state_dict(member_states[0])
    except RuntimeError as err:
        raise ValueError(f"its weights do not fit the model config ({err})") from err
    return network.eval()
