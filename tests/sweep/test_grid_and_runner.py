"""Sweep grid parsing and the cell runner (with stand-in commands instead of kedro runs)."""

from __future__ import annotations

import sys

import pytest

from minivess_kedro.losses import LOSS_NAMES
from minivess_kedro.sweep import Cell, load_grid_file, parse_grid, run_cells
from minivess_kedro.sweep.runner import run_one


def test_grid_is_loss_major_without_repeats() -> None:
    cells = parse_grid("dice_ce, cbdice,dice_ce", "0,1,1", LOSS_NAMES)
    assert [c.name for c in cells] == ["dice_ce-fold0", "dice_ce-fold1", "cbdice-fold0", "cbdice-fold1"]


def test_seeds_are_a_grid_dimension_and_seed_0_keeps_the_plain_name() -> None:
    cells = parse_grid("cbdice", "1", LOSS_NAMES, seeds="0,2,2")
    assert cells == [Cell("cbdice", 1, 0), Cell("cbdice", 1, 2)]
    assert [c.name for c in cells] == ["cbdice-fold1", "cbdice-fold1-seed2"]
    with pytest.raises(ValueError, match="seed 'x' is not a seed index"):
        parse_grid("cbdice", "1", LOSS_NAMES, seeds="0,x")


@pytest.mark.parametrize(
    ("losses", "folds", "message"),
    [
        ("cbdcie", "0", r"unknown losses \['cbdcie'\]; valid: dice_ce"),
        ("dice_ce", "one", "fold 'one' is not a fold index"),
        ("", "0", "the grid is empty"),
    ],
)
def test_bad_grids_are_refused(losses, folds, message) -> None:
    with pytest.raises(ValueError, match=message):
        parse_grid(losses, folds, LOSS_NAMES)


def test_grid_file(tmp_path) -> None:
    grid = tmp_path / "grid.yml"
    grid.write_text("losses: [dice_ce, cbdice]\nfolds: [0, 2]\n")
    assert load_grid_file(grid, LOSS_NAMES)[-1] == Cell("cbdice", 2)
    grid.write_text("losses: [dice_ce, cbdice]\nfolds: [0, 2]\nseeds: [0, 1]\n")
    assert load_grid_file(grid, LOSS_NAMES)[-2:] == [Cell("cbdice", 2, 0), Cell("cbdice", 2, 1)]
    bad = tmp_path / "bad.yml"
    bad.write_text("losses: [dice_ce]\n")
    with pytest.raises(ValueError, match=r"bad.yml: the grid needs \['folds'\]"):
        load_grid_file(bad, LOSS_NAMES)


def test_failed_cell_does_not_stop_the_others_and_done_cells_are_skipped(tmp_path) -> None:
    cells = parse_grid("dice_ce,cbdice,focal", "0", LOSS_NAMES)

    def command(cell):  # cbdice fails, the others succeed; each writes a marker
        code = 1 if cell.loss == "cbdice" else 0
        return [
            [
                sys.executable,
                "-c",
                f"open(r'{tmp_path / cell.name}', 'w'); print('ran {cell.name}'); raise SystemExit({code})",
            ]
        ]

    results = run_cells(cells, command, is_done=lambda cell: cell.loss == "focal", log_dir=tmp_path / "logs", jobs=2)

    assert [r.status for r in results] == ["finished", "failed", "skipped"]
    assert (tmp_path / "dice_ce-fold0").exists() and (tmp_path / "cbdice-fold0").exists()
    assert not (tmp_path / "focal-fold0").exists()  # skipped cells never start
    assert (tmp_path / "logs" / "cbdice-fold0.log").read_text().splitlines()[-1] == "ran cbdice-fold0"


def test_cell_commands_run_in_order_and_stop_at_the_first_failure(tmp_path) -> None:
    def step(name: str, code: int) -> list[str]:
        return [sys.executable, "-c", f"print('{name}'); raise SystemExit({code})"]

    ok = run_one(Cell("dice_ce", 0), [step("train", 0), step("evaluate", 0)], tmp_path)
    failed = run_one(Cell("cbdice", 0), [step("train", 3), step("evaluate", 0)], tmp_path)

    assert ok.status == "finished" and failed.status == "failed"
    ran = [line for line in ok.log.read_text().splitlines() if not line.startswith("$ ")]
    assert ran == ["train", "evaluate"]
    assert "evaluate" not in failed.log.read_text()  # never started
