"""Both MiniVess layouts are found, ids normalised, imports never re-encode."""

from __future__ import annotations

import gzip
import os

import pytest

from minivess_kedro.data.layouts import LayoutError, discover_volumes, import_volumes, normalise_id


def _touch(path, content: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mv01.nii.gz", "mv01"),
        ("mv1.nii.gz", "mv01"),
        ("MV07_y.nii.gz", "mv07"),
        ("mv12_0000.nii.gz", "mv12"),
        ("mv70.json", "mv70"),
        ("mv03.nii", "mv03"),
        ("readme.txt", None),
        ("brain01.nii.gz", None),
    ],
)
def test_normalise_id(name, expected) -> None:
    assert normalise_id(name) == expected


def test_ebrains_layout(tmp_path) -> None:
    for i in (1, 2):
        _touch(tmp_path / "raw" / f"mv{i:02d}.nii.gz")
        _touch(tmp_path / "seg" / f"mv{i:02d}_y.nii.gz")
    _touch(tmp_path / "json" / "mv01.json", b"{}")

    volumes = discover_volumes(tmp_path)

    assert [v.volume_id for v in volumes] == ["mv01", "mv02"]
    assert volumes[0].label.name == "mv01_y.nii.gz"
    assert volumes[0].metadata.name == "mv01.json" and volumes[1].metadata is None


def test_nnunet_layout(tmp_path) -> None:
    _touch(tmp_path / "imagesTr" / "mv05_0000.nii.gz")
    _touch(tmp_path / "labelsTr" / "mv05.nii.gz")
    assert [v.volume_id for v in discover_volumes(tmp_path)] == ["mv05"]


def test_no_layout(tmp_path) -> None:
    with pytest.raises(LayoutError, match="imagesTr/ \\+ labelsTr/.*raw/ \\+ seg/"):
        discover_volumes(tmp_path)


def test_a_folder_holding_both_layouts_is_refused_naming_both(tmp_path) -> None:
    """3 volumes in raw/ + seg/ and a copy of one in imagesTr/: which would the study use?"""
    for i in (1, 2, 3):
        _touch(tmp_path / "raw" / f"mv{i:02d}.nii.gz")
        _touch(tmp_path / "seg" / f"mv{i:02d}_y.nii.gz")
    _touch(tmp_path / "imagesTr" / "mv01.nii.gz")
    _touch(tmp_path / "metadata" / "notes.txt")  # not a volume: does not count

    with pytest.raises(LayoutError) as refused:
        discover_volumes(tmp_path)

    message = str(refused.value)
    assert message.startswith(f"{tmp_path}: two MiniVess layouts in one folder")
    assert "imagesTr/ + labelsTr/ (nnU-Net/MONAI): 1 image(s), 0 label(s)" in message
    assert "raw/ + seg/ (EBRAINS): 3 image(s), 3 label(s)" in message
    assert "move one layout out" in message


def test_an_empty_folder_of_the_other_layout_is_no_ambiguity(tmp_path) -> None:
    _touch(tmp_path / "imagesTr" / "mv05.nii.gz")
    _touch(tmp_path / "labelsTr" / "mv05.nii.gz")
    (tmp_path / "raw").mkdir()
    assert [v.volume_id for v in discover_volumes(tmp_path)] == ["mv05"]


def test_every_problem_is_listed(tmp_path) -> None:
    _touch(tmp_path / "raw" / "mv01.nii.gz")  # no label
    _touch(tmp_path / "raw" / "mv02.nii.gz")
    _touch(tmp_path / "raw" / "mv2.nii.gz")  # duplicate id
    _touch(tmp_path / "seg" / "mv02_y.nii.gz")
    _touch(tmp_path / "seg" / "mv03_y.nii.gz")  # no image
    _touch(tmp_path / "seg" / "vessels.nii.gz")  # bad name

    with pytest.raises(LayoutError) as caught:
        discover_volumes(tmp_path)

    message = str(caught.value)
    assert "4 problem(s)" in message
    for expected in ("duplicate id mv02", "no label file for mv01", "no image file for mv03", "vessels.nii.gz: name"):
        assert expected in message


def test_import_links_gzips_and_prunes(tmp_path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    _touch(source / "raw" / "mv01.nii.gz", b"image-bytes")
    _touch(source / "seg" / "mv01_y.nii", b"plain-label-bytes")
    _touch(source / "json" / "mv01.json", b"{}")
    _touch(target / "imagesTr" / "mv09.nii.gz")  # left over from an earlier import

    placed = import_volumes(discover_volumes(source), target)

    assert placed[0].image == target / "imagesTr" / "mv01.nii.gz"
    assert os.path.samefile(placed[0].image, source / "raw" / "mv01.nii.gz")  # a hard link
    assert gzip.decompress(placed[0].label.read_bytes()) == b"plain-label-bytes"
    assert placed[0].metadata.read_bytes() == b"{}"
    assert not (target / "imagesTr" / "mv09.nii.gz").exists()
    assert import_volumes(discover_volumes(source), target) == placed  # idempotent
