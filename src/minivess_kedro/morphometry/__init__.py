"""What labs report of a vessel mask: length, length density, diameters, branching, tortuosity."""

from minivess_kedro.morphometry.vessel_measures import (
    MEASURE_COLUMNS,
    SEGMENT_COLUMNS,
    VesselAnalysis,
    analyse_vessels,
    segment_table,
    vessel_measures,
)

__all__ = [
    "MEASURE_COLUMNS",
    "SEGMENT_COLUMNS",
    "VesselAnalysis",
    "analyse_vessels",
    "segment_table",
    "vessel_measures",
]
