"""The inference output folder: each volume's files with the source header and a record holding
their sha256, so a rerun skips only masks that are as written; where a run may write."""

from __future__ import annotations

import json
from dataclasses import replace

import nibabel as nib
import numpy as np
import pandas as pd

from minivess_kedro.datasets.inference_outputs_dataset import InferenceOutputsDataset
from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.results import InferenceChunk, SegmentedVolume, output_place_problem
from minivess_kedro.inference.resume import PreviousOutput, finished_output

MODEL = ModelIdentity("minivess-dynunet", "3", "run3", "models:/minivess-dynunet@best-cldice")


def _chunk(probability: bool, source: str = "/data/new/mv01.nii.gz") -> InferenceChunk:
    header = nib.Nifti1Header()
    header.set_data_shape((4, 4, 2))
    header.set_zooms((1.0, 1.0, 2.0))
    mask = np.zeros((4, 4, 2), dtype=np.uint8)
    mask[1:3, 1:3, :] = 1
    record = {"id": "mv01", "model": MODEL.to_dict(), "source": {"path": source, "sha256": "abc"}}
    kept = mask.astype(np.float32) * 0.9 if probability else None
    return InferenceChunk(MODEL, pd.DataFrame({"id": ["mv01"]}), SegmentedVolume("mv01", mask, kept, header, record))


def test_a_saved_volume_loads_as_intact_until_its_mask_changes(tmp_path) -> None:
    folder = InferenceOutputsDataset(path=str(tmp_path / "09_inference"), input_folder="/data/new")
    folder.save(_chunk(probability=True))
    out = tmp_path / "09_inference" / "new" / "minivess-dynunet" / "v3"
    assert sorted(p.name for p in out.iterdir()) == [
        "mv01_mask.nii.gz",
        "mv01_probability.nii.gz",
        "mv01_record.json",
        "summary.csv",
    ]
    (previous,) = folder.load()
    assert previous.mask_intact and previous.probability_intact and previous.record["id"] == "mv01"

    mask = out / "mv01_mask.nii.gz"
    mask.write_bytes(mask.read_bytes()[:-10])  # an interrupted copy, or an edited mask
    (previous,) = folder.load()
    assert not previous.mask_intact and previous.probability_intact


def test_optional_files_are_written_recorded_and_checked(tmp_path) -> None:
    """inference.save_segments / save_ome_tiff: each file beside the mask, its sha256 in the record;
    an edited one is not intact (a rerun that asks for it segments again); a run without it removes it."""
    folder = InferenceOutputsDataset(path=str(tmp_path), input_folder="/data/new")
    chunk = _chunk(probability=False)
    optional = {"segments": b"segment,length_um\n0,12.5\n", "ome_tiff": b"II*\x00 stand-in bytes"}
    folder.save(InferenceChunk(MODEL, chunk.summary, replace(chunk.volume, optional=optional)))
    out = tmp_path / "new" / "minivess-dynunet" / "v3"
    assert (out / "mv01_segments.csv").read_bytes() == optional["segments"]
    assert (out / "mv01_mask.ome.tif").read_bytes() == optional["ome_tiff"]
    (previous,) = folder.load()
    assert previous.optional_intact == {"segments", "ome_tiff"} and previous.record["segments_sha256"]

    (out / "mv01_segments.csv").write_text("segment,length_um\n0,99\n")
    (previous,) = folder.load()
    assert previous.mask_intact and previous.optional_intact == {"ome_tiff"}
    settings = previous.record.get("settings")
    assert finished_output([previous], "mv01", MODEL, "abc", settings, False, ["segments"]) is None
    assert finished_output([previous], "mv01", MODEL, "abc", settings, False, ["ome_tiff"]) is previous

    folder.save(chunk)
    assert not (out / "mv01_segments.csv").exists() and not (out / "mv01_mask.ome.tif").exists()


def test_a_run_without_probabilities_removes_the_old_one_and_an_unreadable_record_is_skipped(tmp_path) -> None:
    folder = InferenceOutputsDataset(path=str(tmp_path), input_folder="/data/new")
    folder.save(_chunk(probability=True))
    folder.save(_chunk(probability=False))
    out = tmp_path / "new" / "minivess-dynunet" / "v3"
    assert not (out / "mv01_probability.nii.gz").exists()
    assert "probability_sha256" not in json.loads((out / "mv01_record.json").read_text())
    (out / "mv02_record.json").write_text("{not json")
    assert [p.record["id"] for p in folder.load()] == ["mv01"]


def test_dot_names_the_folder_it_is(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scans").mkdir()
    monkeypatch.chdir(tmp_path / "scans")
    folder = InferenceOutputsDataset(path=str(tmp_path / "out"), input_folder=".")
    assert folder.folder(MODEL) == tmp_path / "out" / "scans" / "minivess-dynunet" / "v3"


def test_an_output_inside_the_input_or_holding_another_folders_masks_is_refused(tmp_path) -> None:
    new = tmp_path / "lab1" / "new"
    assert "is inside inference.input" in output_place_problem(str(new), str(new / "masks"), [])
    ours = PreviousOutput({"source": {"path": str(new / "imagesTr" / "mv01.nii.gz")}}, mask_intact=True)
    assert output_place_problem(str(new), None, [ours]) is None
    theirs = PreviousOutput({"source": {"path": str(tmp_path / "lab2" / "new" / "mv01.nii.gz")}}, mask_intact=True)
    problem = output_place_problem(str(new), None, [ours, theirs])
    assert f"holds masks of volumes from {tmp_path / 'lab2' / 'new'}, not from {new}" in problem
    assert "--params inference.output=" in problem
