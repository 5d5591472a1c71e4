"""Typed ``evaluation`` parameters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import pandas as pd
from pydantic import Field, field_validator

from minivess_kedro.data.manifest import coarsest_spacing_by_volume
from minivess_kedro.pipelines.params_base import BootstrapParams, StrictParams


class ComponentParams(StrictParams):
    """``components`` post-processing (physical sizes, cubic micrometres)."""

    min_volume_um3: float = Field(100.0, ge=0)
    max_hole_um3: float = Field(50.0, ge=0)


class TopoSculptParams(StrictParams):
    """``toposculpt`` post-processing: test-time refinement towards a Betti prior."""

    betti_prior: int = Field(1, ge=1)
    num_its: int = Field(100, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    lambda_a: float = Field(1.0, ge=0)
    lambda_z: float = Field(1.0, ge=0)
    lambda_cl: float = Field(1000.0, ge=0)
    lambda_mse: float = Field(1000.0, ge=0)
    max_box_voxels: int = Field(4_000_000, ge=1)


class EvaluationSlidingWindowParams(StrictParams):
    """Whole-volume inference.

    ``roi_size`` ``None`` is the training patch. DynUNet is fully convolutional, so a larger
    window (each side a multiple of the strides' product) needs fewer windows and less overlap
    work per volume; instance normalisation then sees a larger context than in training
    (``bench/eval_window.py`` measures what that does to the predictions).
    """

    roi_size: tuple[int, int, int] | None = None
    sw_batch_size: int = Field(4, ge=1)
    overlap: float = Field(0.5, ge=0, lt=1)
    mode: Literal["gaussian", "constant"] = "gaussian"
    stitch_on_cpu: bool = True


class BaselineParams(StrictParams):
    """Classical baselines, computed once per dataset and cached in ``cache_dir``."""

    methods: tuple[Literal["otsu", "frangi"], ...] = ("otsu", "frangi")
    frangi_sigmas: tuple[float, ...] = (1.0, 2.0, 3.0)
    cache_dir: str


class EvaluationParams(StrictParams):
    """``evaluation:`` in ``parameters_evaluation.yml``."""

    @field_validator("postprocessing", mode="before")
    @classmethod
    def _plus_separated(cls, value):
        # --params evaluation.postprocessing=components+toposculpt (the CLI splits on commas)
        return [v for v in value.split("+") if v] if isinstance(value, str) else value

    splits: tuple[Literal["val", "test"], ...] = ("val", "test")
    nsd_tau: Literal["auto"] | float = Field("auto", union_mode="left_to_right")
    distance_units: Literal["physical", "voxel"] = "physical"
    postprocessing: tuple[Literal["components", "toposculpt"], ...] = ("components",)
    components: ComponentParams = ComponentParams()
    toposculpt: TopoSculptParams = TopoSculptParams()
    sliding_window: EvaluationSlidingWindowParams = EvaluationSlidingWindowParams()
    bootstrap: BootstrapParams = BootstrapParams()
    baselines: BaselineParams

    @field_validator("nsd_tau")
    @classmethod
    def _tolerance(cls, value: str | float) -> str | float:
        if value != "auto" and not value >= 0:
            raise ValueError(f"nsd_tau must be 'auto' or a distance >= 0, got {value!r}")
        return value

    def nsd_tolerance(self, coarsest_spacing_um: float) -> float:
        """One volume's NSD tolerance in ``distance_units``: the given value, or for ``auto`` the
        volume's own coarsest voxel dimension (one voxel in voxel units)."""
        if self.nsd_tau != "auto":
            return float(self.nsd_tau)
        return coarsest_spacing_um if self.distance_units == "physical" else 1.0

    @property
    def nsd_tau_rule(self) -> Literal["auto", "fixed"]:
        """The rule recorded beside each row's ``nsd_tau``: ``auto`` (each volume's own) or ``fixed``."""
        return "auto" if self.nsd_tau == "auto" else "fixed"  # metrics.tolerance.AUTO / FIXED

    def volume_tolerances(self, manifest: pd.DataFrame, ids: Iterable[str]) -> dict[str, float]:
        """The NSD tolerance of each of ``ids``, by :meth:`nsd_tolerance` of its manifest spacing.

        Raises:
            ValueError: a volume the manifest does not list, or a manifest without spacing; before
                any volume is scored.
        """
        coarsest = coarsest_spacing_by_volume(manifest)
        wanted = sorted(set(ids))
        missing = [i for i in wanted if i not in coarsest]
        if missing:
            raise ValueError(
                f"volumes {missing} are not in the volume manifest: no spacing to derive their NSD tolerance "
                "from; rerun data_ingestion with the same --env"
            )
        return {i: self.nsd_tolerance(coarsest[i]) for i in wanted}
