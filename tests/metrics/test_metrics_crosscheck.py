"""The optional MetricsReloaded cross-check command, with a stand-in module."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from metrics_shapes import REFERENCE_DIR, load_expected

from minivess_kedro.tools import crosscheck

EXPECTED = load_expected()


def _fake_metricsreloaded(values_by_size: dict[int, dict[str, float]]) -> types.ModuleType:
    """A stand-in returning recorded MetricsReloaded values, keyed by the masks' sizes."""

    class BinaryPairwiseMeasures:
        def __init__(self, pred, ref, measures, pixdim, dict_args) -> None:
            assert dict_args == {"hd_perc": 95, "nsd": EXPECTED["tau"]}
            assert len(pixdim) == 3 and pred.dtype == np.int32
            self._values = values_by_size[int(pred.sum()) * 100_000 + int(ref.sum())]

        def __getattr__(self, method: str):
            key = {v: k for k, v in crosscheck.MR_METHODS.items()}[method]
            return lambda: self._values[key]

    return types.SimpleNamespace(BinaryPairwiseMeasures=BinaryPairwiseMeasures)


def _recorded_values() -> dict[int, dict[str, float]]:
    table = {}
    for case, pred_path, ref_path in crosscheck.find_pairs(REFERENCE_DIR):
        pred, ref, _ = crosscheck.load_pair(pred_path, ref_path)
        raw = EXPECTED["cases"][case]["metricsreloaded_raw"]
        table[int(pred.sum()) * 100_000 + int(ref.sum())] = {
            "dsc": raw["dsc"],
            "cldice": math.nan if raw["centreline_dsc"] is None else raw["centreline_dsc"],
            "masd": math.nan if raw["masd"] is None else raw["masd"],
            "hd95": math.nan if raw["hd95"] is None else raw["hd95"],
            "nsd": raw["nsd"],
        }
    return table


def test_reference_cases_agree_with_recorded_metricsreloaded_values() -> None:
    lines: list[str] = []
    module = _fake_metricsreloaded(_recorded_values())
    assert crosscheck.crosscheck(REFERENCE_DIR, EXPECTED["tau"], 1e-6, module, lines.append)
    assert not any("differs" in line for line in lines)
    assert len(lines) == 1 + 5 * len(EXPECTED["cases"])


def test_a_differing_value_is_flagged() -> None:
    recorded = _recorded_values()
    key = next(iter(recorded))
    recorded[key] = {**recorded[key], "masd": recorded[key]["masd"] * 1.001 + 1e-3}
    lines: list[str] = []
    module = _fake_metricsreloaded(recorded)
    assert not crosscheck.crosscheck(REFERENCE_DIR, EXPECTED["tau"], 1e-6, module, lines.append)
    assert sum("differs" in line for line in lines) == 1


def test_without_metricsreloaded_the_command_says_how_to_install(monkeypatch, capsys) -> None:
    monkeypatch.setattr(crosscheck, "import_metricsreloaded", lambda: None)
    assert crosscheck.main([str(REFERENCE_DIR)]) == 2
    assert "pip install git+https://github.com/Project-MONAI/MetricsReloaded" in (capsys.readouterr().err)


def test_folder_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="no '<case>_pred.nii"):
        crosscheck.find_pairs(tmp_path)
    (tmp_path / "a_pred.nii.gz").write_bytes(b"")
    with pytest.raises(ValueError, match="a_pred.nii.gz has no reference a_ref.nii.gz"):
        crosscheck.find_pairs(tmp_path)
