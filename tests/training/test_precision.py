"""Mixed precision and kernel choice: bf16 only where the GPU has it, fp16 with a loss scaler
elsewhere, resume across the two, and ``deterministic`` deciding cuDNN's behaviour."""

from __future__ import annotations

import logging

import pytest
import torch

from minivess_kedro.inference import SlidingWindowConfig
from minivess_kedro.losses import build_loss
from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.training import FitConfig, LoaderSettings, Trainer
from minivess_kedro.training.device import autocast_dtype, load_scaler_state
from minivess_kedro.training.seeding import seed_everything
from tests.training.conftest import PATCH

CUDA = torch.device("cuda")  # a device name: nothing runs on it


@pytest.mark.parametrize(
    ("native", "emulated", "expected"),
    [(True, True, torch.bfloat16), (False, True, torch.float16), (False, False, torch.float16)],
    ids=["ampere: native bf16", "turing: emulated bf16 only", "no bf16"],
)
def test_bf16_only_where_the_gpu_computes_it(monkeypatch, native, emulated, expected) -> None:
    monkeypatch.setattr(
        torch.cuda, "is_bf16_supported", lambda including_emulation=True: native or (including_emulation and emulated)
    )
    assert autocast_dtype(CUDA, amp=True) == expected
    assert autocast_dtype(CUDA, amp=False) is None and autocast_dtype(torch.device("cpu"), amp=True) is None


def test_a_scaler_state_is_restored_only_under_the_same_precision() -> None:
    fp16 = torch.amp.GradScaler("cpu", enabled=True, init_scale=1024.0)
    saved_fp16, saved_bf16 = fp16.state_dict(), torch.amp.GradScaler("cpu", enabled=False).state_dict()

    fresh = torch.amp.GradScaler("cpu", enabled=True)
    assert not load_scaler_state(fresh, saved_bf16) and fresh.get_scale() == 65536.0  # bf16 -> fp16: afresh
    assert load_scaler_state(fresh, saved_fp16) and fresh.get_scale() == 1024.0
    assert not load_scaler_state(torch.amp.GradScaler("cpu", enabled=False), saved_fp16)  # fp16 -> bf16


def test_a_run_resumes_on_a_gpu_of_the_other_precision(tiny_fold, tmp_path, caplog) -> None:
    """Trained under bf16 (no scaler), resumed where fp16 + GradScaler is the choice: the epoch goes on."""

    def trainer(max_epochs: int) -> Trainer:
        seed_everything(3)
        model = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32)))
        config = FitConfig(max_epochs=max_epochs, warmup_epochs=0, metrics_every=100, seed=3)
        return Trainer(model, build_loss("dice_ce"), config, torch.device("cpu"), tmp_path, {"loss": "dice_ce"})

    loader, window = LoaderSettings(patch_size=PATCH, batch_size=2, samples_per_volume=1), SlidingWindowConfig(PATCH)

    def interrupt(epoch, record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer(2).fit(*tiny_fold, loader, window, on_epoch_end=interrupt)
    resumed = trainer(2)
    resumed.scaler = torch.amp.GradScaler("cpu", enabled=True)  # the fp16 GPU's scaler
    with caplog.at_level(logging.WARNING, logger="minivess_kedro.training.loop"):
        result = resumed.fit(*tiny_fold, loader, window)
    assert result.resumed_from_epoch == 1 and len(result.history) == 2
    assert any("another precision (loss scaler off, this run fp16)" in m for m in caplog.messages)


@pytest.fixture
def kernel_flags():
    """Restores torch's global kernel flags after the test."""
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.utils.deterministic.fill_uninitialized_memory,
    )
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2], saved[3]
    torch.utils.deterministic.fill_uninitialized_memory = saved[4]


@pytest.mark.parametrize("deterministic", [True, False])
def test_deterministic_decides_cudnn(kernel_flags, deterministic: bool) -> None:
    seed_everything(0, deterministic)
    assert torch.are_deterministic_algorithms_enabled() is deterministic
    assert torch.backends.cudnn.deterministic is deterministic and torch.backends.cudnn.benchmark is not deterministic
    assert torch.utils.deterministic.fill_uninitialized_memory is False  # no NaN-filled allocations
