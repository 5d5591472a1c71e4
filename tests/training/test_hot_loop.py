"""The training step never waits for the host: the loss is read every ``check_every`` steps and
at the epoch's end, and a non-finite loss still stops the run, naming its step."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.training import FitConfig, Trainer
from minivess_kedro.training.steps import StepSettings, train_one_epoch

#: Tensor methods that copy a value to the host (on CUDA each waits for the GPU to finish).
HOST_READS = ("item", "__bool__", "__float__", "__int__", "__index__", "tolist", "cpu", "numpy")


class HostReads(TorchFunctionMode):
    """Counts the tensor-to-host reads made while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.count += getattr(func, "__name__", "") in HOST_READS
        return func(*args, **(kwargs or {}))


class NanAt(nn.Module):
    """Mean squared logit, NaN from step ``bad`` on (counting calls from 1)."""

    def __init__(self, bad: int | None = None) -> None:
        super().__init__()
        self.bad, self.calls = bad, 0

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        value = (logits**2).mean()
        return value * float("nan") if self.bad is not None and self.calls >= self.bad else value


def _batches(steps: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    return [
        {"image": torch.randn(1, 1, 16, 16, 8, generator=generator), "label": torch.zeros(1, 1, 16, 16, 8)}
        for _ in range(steps)
    ]


def _epoch(steps: int, loss: nn.Module, check_every: int = 50) -> tuple[dict, int]:
    torch.manual_seed(0)
    model = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32)))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    settings = StepSettings(show_progress=False, check_every=check_every)
    with HostReads() as reads:
        result = train_one_epoch(model, loss, _batches(steps), optimizer, scaler, torch.device("cpu"), settings)
    return result, reads.count


def test_host_reads_do_not_grow_with_the_steps() -> None:
    (short, reads_short), (long, reads_long) = _epoch(3, NanAt()), _epoch(9, NanAt())
    assert reads_short == reads_long  # a constant per epoch, not per step (it was 2 per step)
    # each check reads the first bad step and the loss sum for the progress bar: 2 reads, 3 checks
    assert _epoch(9, NanAt(), check_every=3)[1] == reads_long + 2 * 3
    assert short["train_loss"] > 0 and long["train_loss"] > 0


def test_the_epoch_mean_is_the_mean_of_the_step_losses() -> None:
    recorded: list[float] = []

    class Recording(NanAt):
        def forward(self, logits, target):
            value = super().forward(logits, target)
            recorded.append(value.item())
            return value

    result, _ = _epoch(5, Recording())
    assert result["train_loss"] == sum(recorded) / len(recorded)  # float64 sum, as the per-step floats were


@pytest.mark.parametrize(("check_every", "steps"), [(50, 6), (2, 6)])
def test_a_non_finite_loss_stops_the_epoch_naming_its_first_step(check_every: int, steps: int) -> None:
    with pytest.raises(FloatingPointError, match=r"train: non-finite loss at step 4 \(nan on this process\)"):
        _epoch(steps, NanAt(bad=4), check_every=check_every)


def test_the_trainer_moves_the_loss_to_its_device(tmp_path) -> None:
    """A loss's buffers (topo's class weights) must follow the model to the GPU."""
    moved: list[torch.device] = []

    class Spy(NanAt):
        def to(self, *args, **kwargs):
            moved.append(torch.device(args[0]))
            return super().to(*args, **kwargs)

    model = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32)))
    Trainer(model, Spy(), FitConfig(max_epochs=2, warmup_epochs=0), torch.device("cpu"), tmp_path, {})
    assert moved == [torch.device("cpu")]
