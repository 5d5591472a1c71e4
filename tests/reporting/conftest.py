"""Reports built once per session from the fake runs (bootstrap kept small for speed)."""

from __future__ import annotations

import pytest

from minivess_kedro.reporting import Report, ReportSettings, build_report
from tests.reporting import fakes

SETTINGS = ReportSettings(n_resamples=999)


@pytest.fixture(scope="session")
def report() -> Report:
    """3 losses x 2 folds, 5 test volumes, two post-processings, baselines, two examples."""
    return build_report(fakes.make_runs(), fakes.baselines(), fakes.examples(), fakes.PROTOCOL, SETTINGS)


@pytest.fixture(scope="session")
def val_report() -> Report:
    """The same runs without test rows (the previous study's protocol)."""
    return build_report(fakes.make_runs(test=False), fakes.baselines(), [], fakes.PROTOCOL, SETTINGS)


@pytest.fixture(scope="session")
def minimal_report() -> Report:
    """Only the reference loss, no baselines, no examples, no protocol."""
    return build_report(fakes.make_runs(losses=("dice_ce",)), None, [], {}, SETTINGS)


@pytest.fixture(scope="session")
def variant_report() -> Report:
    """One loss whose runs differ in dataset fingerprint; the protocol declares voxel distances and
    checkpoint selection on the reported volumes."""
    runs = [
        fakes.make_run("cbdice", fold, tags={"dataset_fingerprint": print_})
        for fold, print_ in ((0, "beef"), (1, "f00d"))
    ]
    protocol = {
        "evaluation": {"distance_units": "voxel"},
        "splits": {"num_folds": 2, "checkpoint_selected_on_reported_volumes": True},
    }
    return build_report(runs, None, [], protocol, SETTINGS)


@pytest.fixture(scope="session")
def nested_report() -> Report:
    """3 losses x 3 outer folds x 2 seeds under the nested protocol (9 volumes, each tested once); the
    caller's protocol mapping wrongly declares selection on the reported volumes (the runs' tag wins)."""
    protocol = {"data_source": "synthetic", "splits": {"checkpoint_selected_on_reported_volumes": True}}
    return build_report(fakes.make_nested_runs(), None, [], protocol, SETTINGS)
