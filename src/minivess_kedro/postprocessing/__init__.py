"""Post-processing of predicted vessel masks, evaluated next to the raw prediction."""

from minivess_kedro.postprocessing.components import ComponentSettings, clean_components

__all__ = ["ComponentSettings", "clean_components"]
