"""Loss x fold sweeps: one ``kedro run`` process per cell, finished cells skipped."""

from minivess_kedro.sweep.grid import Cell, load_grid_file, parse_grid
from minivess_kedro.sweep.runner import CellResult, run_cells

__all__ = ["Cell", "CellResult", "load_grid_file", "parse_grid", "run_cells"]
