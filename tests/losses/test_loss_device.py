"""Every loss computes where its inputs are: the meta device stands in for CUDA.

On CUDA a loss that keeps a CPU tensor (a class-weight buffer that never followed ``.to``, a
constant made with ``torch.tensor(...)``) crashes at the first step with "Expected all tensors
to be on the same device". The meta device refuses such a mix the same way, without a GPU. Its
tensors hold no data, so the three NumPy crossings of :mod:`minivess_kedro.losses.host` are
replaced by stand-ins of the right shape; everything else each loss does runs on meta.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import distance_transform_edt

from minivess_kedro.losses import LOSS_NAMES, build_loss, host
from minivess_kedro.metrics.monitoring import ForegroundDiceF1

META = torch.device("meta")
SHAPE = (2, 2, 16, 16, 8)
# Late terms on from the first step, and small cubes for topo's persistence.
KWARGS = {"warp": {"activate_at": 0.0}, "topo": {"activate_at": 0.0, "topo_size": 8}}


@pytest.fixture
def meta_host(monkeypatch) -> list[str]:
    """Host crossings that accept meta tensors; returns the crossings made, by name."""
    crossings: list[str] = []

    def to_numpy(tensor: torch.Tensor) -> np.ndarray:
        crossings.append("to_numpy")
        return np.zeros(tuple(tensor.shape), dtype=np.float32 if tensor.is_floating_point() else bool)

    def distance_map(masks: torch.Tensor) -> torch.Tensor:
        crossings.append("distance_map")
        return torch.zeros(masks.shape, dtype=torch.float32, device=masks.device)

    monkeypatch.setattr(host, "to_numpy", to_numpy)
    monkeypatch.setattr(host, "distance_map", distance_map)
    return crossings


def _inputs(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    logits = torch.zeros(SHAPE, device=device, requires_grad=True)
    target = torch.zeros((SHAPE[0], 1, *SHAPE[2:]), dtype=torch.long, device=device)
    return logits, target


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_and_its_gradient_stay_on_the_device(name: str, meta_host: list[str]) -> None:
    loss = build_loss(name, **KWARGS.get(name, {})).to(META)
    if hasattr(loss, "set_training_progress"):
        loss.set_training_progress(1.0)
    logits, target = _inputs(META)

    value = loss(input=logits, target=target)
    value.backward()

    assert value.device == META and value.shape == () and logits.grad.device == META
    if getattr(loss, "has_late_term", False):  # the term's running sums wait on the device too
        assert loss.term_stats.term_sum.device == META and loss.term_stats.ratio_sum.device == META
    expected = {
        "cbdice": {"distance_map"},
        "cbdice_cldice": {"distance_map"},
        "warp": {"to_numpy"},
        "topo": {"to_numpy"},
    }
    assert set(meta_host) == expected.get(name, set())  # only the losses that must leave the device do


def test_a_loss_left_on_the_cpu_is_caught(meta_host: list[str]) -> None:
    """What the trainer did before it moved the loss: topo's class weights stayed on the CPU."""
    loss = build_loss("topo", **KWARGS["topo"])
    with pytest.raises(RuntimeError, match="device"):
        loss(input=_inputs(META)[0], target=_inputs(META)[1])


def test_the_trainers_monitor_accumulates_on_the_device() -> None:
    monitor = ForegroundDiceF1(device=META)
    logits, target = _inputs(META)
    monitor.update(logits.detach(), target)
    values = [*monitor.dice.metric_state.values(), *monitor.f1.metric_state.values()]
    states = [state for value in values for state in (value if isinstance(value, list) else [value])]
    assert states and all(state.device == META for state in states)


@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 6, 7)])
def test_the_distance_map_is_scipys_and_returns_to_the_masks_device(shape: tuple[int, ...]) -> None:
    masks = torch.from_numpy(np.random.default_rng(0).random((2, *shape)) > 0.4)
    result = host.distance_map(masks)
    assert result.dtype == torch.float32 and result.device == masks.device
    for got, mask in zip(result.numpy(), masks.numpy(), strict=True):
        np.testing.assert_allclose(got, distance_transform_edt(mask), rtol=1e-6)


def test_host_round_trip_keeps_values_and_lands_on_the_like_device() -> None:
    like = torch.zeros(1, device=META)
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert host.to_device(array, like).device == META
    np.testing.assert_array_equal(host.to_numpy(host.to_device(array, torch.zeros(1))), array)
