"""The Ray backend on a local Ray instance: two cells run at the same time, results in order."""

from __future__ import annotations

import sys

import pytest

from minivess_kedro.sweep import Cell
from minivess_kedro.sweep.ray_backend import check_some_node_fits, run_cells_on_ray


def test_two_cells_run_concurrently_on_a_local_ray_instance(tmp_path) -> None:
    cells = [Cell("dice_ce", 0), Cell("cbdice", 0), Cell("focal", 0)]

    def command(cell):  # a stand-in for `kedro run`: sleeps, then fails for focal
        code = 3 if cell.loss == "focal" else 0
        return [[sys.executable, "-c", f"import time; time.sleep(4); print('{cell.name}'); raise SystemExit({code})"]]

    results = run_cells_on_ray(cells, command, tmp_path / "logs", tmp_path, num_cpus=1, num_gpus=0, address="local")

    assert [r.cell for r in results] == cells
    assert [r.status for r in results] == ["finished", "finished", "failed"]
    first, second = results[0], results[1]
    assert first.started < second.ended and second.started < first.ended  # their runs overlapped
    assert (tmp_path / "logs" / "cbdice-fold0.log").read_text().splitlines()[-1] == "cbdice-fold0"


def test_request_no_node_can_hold_is_refused_naming_the_profile_keys() -> None:
    nodes = [
        {"Alive": True, "Resources": {"CPU": 16.0, "GPU": 4.0}},
        {"Alive": False, "Resources": {"CPU": 64.0, "GPU": 8.0}},  # a dead node does not count
    ]
    check_some_node_fits(nodes, num_cpus=9, num_gpus=4)  # fits the live node
    with pytest.raises(ValueError, match=r"17 CPUs and 8 GPUs .* largest Ray node has 16 CPUs and 4 GPUs"):
        check_some_node_fits(nodes, num_cpus=17, num_gpus=8)
