"""Post-processing of predicted vessel masks, evaluated next to the raw prediction."""

from minivess_kedro.postprocessing.components import ComponentSettings, clean_components
from minivess_kedro.postprocessing.toposculpt import TopoSculptSettings, toposculpt

__all__ = ["ComponentSettings", "TopoSculptSettings", "clean_components", "toposculpt"]
