"""Classical baselines on the same volumes as the networks: what learning adds."""

from minivess_kedro.baselines.classical import (
    FrangiSettings,
    fit_frangi_threshold,
    frangi_segmentation,
    otsu_segmentation,
)

__all__ = ["FrangiSettings", "fit_frangi_threshold", "frangi_segmentation", "otsu_segmentation"]
