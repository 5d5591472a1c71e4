"""Typed ``training`` parameters: a typo, a bad value or a patch that does not fit the network
fails before any work, with the key named."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from minivess_kedro.inference import SlidingWindowConfig
from minivess_kedro.losses import LOSS_NAMES
from minivess_kedro.models import DynUNetConfig, check_patch_fits
from minivess_kedro.pipelines.params_base import StrictParams
from minivess_kedro.training import FitConfig, LoaderSettings
from minivess_kedro.training.selection import SelectionRule

# The defaults are the domain configs' (one definition each); these models add the checks.
_FIT, _MODEL, _WINDOW = FitConfig(), DynUNetConfig(), SlidingWindowConfig(roi_size=(1, 1, 1))
_LOADER = LoaderSettings(patch_size=(1, 1, 1))


class ComputeParams(StrictParams):
    """The compute profile (``conf/<env>/parameters_training.yml``)."""

    profile: str
    device: str = "auto"
    batch_size: int = Field(ge=1)
    patch_size: tuple[int, int, int]
    num_workers: int = Field(ge=0)
    amp: bool
    grad_accumulation: int = Field(ge=1)
    gpus: int = Field(0, ge=0)  # GPUs one run asks a Ray cluster for


class ModelParams(StrictParams):
    """DynUNet architecture (see ``minivess_kedro.models.DynUNetConfig``)."""

    filters: tuple[int, ...] = _MODEL.filters
    kernel_size: int = Field(_MODEL.kernel_size, ge=1)
    strides: tuple[int, ...] = _MODEL.strides
    norm_name: str = _MODEL.norm_name
    res_block: bool = _MODEL.res_block
    deep_supervision: Literal[False] = False  # the losses take one head; deep supervision is not wired
    dropout: float | None = Field(_MODEL.dropout, ge=0, lt=1)

    def to_config(self) -> DynUNetConfig:
        return DynUNetConfig(**self.model_dump())


class SlidingWindowParams(StrictParams):
    """Whole-volume validation (the window is the training patch)."""

    sw_batch_size: int = Field(_WINDOW.sw_batch_size, ge=1)
    overlap: float = Field(_WINDOW.overlap, ge=0, lt=1)
    mode: Literal["gaussian", "constant"] = _WINDOW.mode


class TrainingParams(StrictParams):
    """``training:`` in ``parameters_training.yml``."""

    seed: int = _FIT.seed
    max_epochs: int = Field(_FIT.max_epochs, ge=1)
    learning_rate: float = Field(_FIT.learning_rate, gt=0)
    weight_decay: float = Field(_FIT.weight_decay, ge=0)
    warmup_epochs: int = Field(_FIT.warmup_epochs, ge=0)
    patience: int = Field(_FIT.patience, ge=1)
    grad_clip: float | None = Field(_FIT.grad_clip, gt=0)
    val_every: int = Field(_FIT.val_every, ge=1)
    val_windows: Literal["auto", "whole"] | Annotated[int, Field(ge=1)] = Field(
        _FIT.val_windows, union_mode="left_to_right"
    )
    metrics_every: int = Field(_FIT.metrics_every, ge=1)
    samples_per_volume: int = Field(_LOADER.samples_per_volume, ge=1)
    cache_rate: float = Field(_LOADER.cache_rate, ge=0, le=1)
    deterministic: bool = _FIT.deterministic
    # late_term: every loss selects from the epoch warp's/topo's terms come on; own: each its own
    selection_start: SelectionRule = "late_term"
    restart: bool = False
    experiment_phase: str = "loss_study"
    registered_model_name: str = "minivess-dynunet"
    checkpoint_dir: str
    compute: ComputeParams
    model: ModelParams = ModelParams()
    sliding_window: SlidingWindowParams = SlidingWindowParams()
    loss_kwargs: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("loss_kwargs")
    @classmethod
    def _known_losses(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        unknown = sorted(set(value) - set(LOSS_NAMES))
        if unknown:
            raise ValueError(f"loss_kwargs has unknown losses {unknown}; valid: {', '.join(LOSS_NAMES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainingParams:
        check_patch_fits(self.compute.patch_size, self.model.strides, where="training.compute.patch_size")
        height, width, _ = self.compute.patch_size
        if height != width:  # in-plane 90-degree rotations would give patches of two shapes in one batch
            raise ValueError(f"training.compute.patch_size {list(self.compute.patch_size)}: H and W must be equal")
        if self.warmup_epochs >= self.max_epochs:
            raise ValueError(f"warmup_epochs={self.warmup_epochs} must be below max_epochs={self.max_epochs}")
        return self
