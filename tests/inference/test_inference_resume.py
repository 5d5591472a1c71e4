"""The resume rule: an earlier output is reused only for the same volume, model name and version,
source bytes and result settings, with its files still there."""

from __future__ import annotations

import pytest

from minivess_kedro.inference import SlidingWindowConfig
from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.resume import PreviousOutput, finished_output, result_settings
from minivess_kedro.morphometry import MEASURE_COLUMNS
from minivess_kedro.postprocessing import ComponentSettings

MODEL = ModelIdentity("minivess-dynunet", "3", "run3", "models:/minivess-dynunet@best-cldice")
WINDOW = SlidingWindowConfig(roi_size=(64, 64, 16), sw_batch_size=4, overlap=0.25)
SETTINGS = result_settings(WINDOW, "components", ComponentSettings())


def _previous(**changes) -> PreviousOutput:
    record = {
        "id": "mv01",
        "model": {"name": "minivess-dynunet", "version": "3", "run_id": "run3", "uri": "models:/minivess-dynunet/3"},
        "source": {"path": "/data/new/mv01.nii.gz", "sha256": "abc"},
        "settings": result_settings(WINDOW, "components", ComponentSettings()),
    }
    files = {
        "mask_intact": changes.pop("mask_intact", True),
        "probability_intact": changes.pop("probability_intact", False),
    }
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            record[section] = {**record[section], field: value}
        else:
            record[section] = value
    return PreviousOutput(record, **files)


def test_the_same_version_source_and_settings_is_reused_whatever_the_uri_said() -> None:
    previous = _previous()  # recorded under models:/.../3, asked for by alias now: the same version
    assert finished_output([previous], "mv01", MODEL, "abc", SETTINGS, needs_probability=False) is previous


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "mv02"},
        {"model__version": "2"},
        {"model__name": "other-model"},
        {"source__sha256": "changed"},
        {"settings": result_settings(WINDOW, "none", None)},
        {
            "settings": result_settings(
                SlidingWindowConfig(roi_size=(96, 96, 24), overlap=0.25), "components", ComponentSettings()
            )
        },
        {
            "settings": result_settings(
                SlidingWindowConfig(roi_size=(64, 64, 16), overlap=0.5), "components", ComponentSettings()
            )
        },
        {"settings": result_settings(WINDOW, "components", ComponentSettings(min_volume_um3=500.0))},
        {"mask_intact": False},
    ],
    ids=[
        "other id",
        "other version",
        "other model",
        "other source",
        "raw",
        "other window",
        "other overlap",
        "other sizes",
        "no mask",
    ],
)
def test_anything_else_segments_again(changes) -> None:
    assert finished_output([_previous(**changes)], "mv01", MODEL, "abc", SETTINGS, needs_probability=False) is None


def test_a_run_that_saves_probabilities_needs_the_probability_file_too() -> None:
    assert finished_output([_previous()], "mv01", MODEL, "abc", SETTINGS, needs_probability=True) is None
    with_it = _previous(probability_intact=True)
    assert finished_output([with_it], "mv01", MODEL, "abc", SETTINGS, needs_probability=True) is with_it


def test_a_record_from_before_a_measurement_existed_segments_again() -> None:
    """A summary without the vessel measurements (written before they existed) would leave their
    columns empty in summary.csv: that volume is segmented again."""
    old = _previous(summary={"vessel_fraction": 0.1, "centreline_length_um": 12.0})
    current = _previous(summary={"vessel_fraction": 0.1, **dict.fromkeys(MEASURE_COLUMNS, 1.0)})
    for previous, expected in ((old, None), (current, current)):
        found = finished_output([previous], "mv01", MODEL, "abc", SETTINGS, False, (), MEASURE_COLUMNS)
        assert found is expected


def test_windows_per_pass_and_stitching_do_not_change_the_settings() -> None:
    faster = SlidingWindowConfig(roi_size=(64, 64, 16), sw_batch_size=16, overlap=0.25, device="cpu")
    assert result_settings(faster, "components", ComponentSettings()) == SETTINGS
