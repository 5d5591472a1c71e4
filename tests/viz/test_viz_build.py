"""`kedro viz build`: the static site for the docs, with previews of the files present."""

from __future__ import annotations

import base64
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from PIL import Image

from minivess_kedro.data.synthetic import generate_volume
from minivess_kedro.io import NiftiVolume
from minivess_kedro.models.dynunet import DynUNetConfig, build_dynunet
from tests.viz.pipeline_nodes import PIPELINES, STUDY_PIPELINES, node_names
from tests.viz.viz_server import kedro, kedro_env


def _build(project: Path, *args: str, **env: str) -> dict[str, dict]:
    """Runs ``kedro viz build [args]`` in ``project``; returns ``{node name: its api/nodes JSON}``."""
    command = kedro("viz", "build", *args)
    result = subprocess.run(
        command, cwd=project, env=kedro_env(**env), capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Success!" in output, output[-5000:]
    api = project / "build" / "api"
    graph = json.loads((api / "main").read_text())
    return {node["name"]: json.loads((api / "nodes" / node["id"]).read_text()) for node in graph["nodes"]}


def _write_demo_data(project: Path) -> dict:
    """Raw volumes, a manifest, splits and a model, saved through the demo env's catalog; returns the model."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="demo") as session:
        catalog = session.load_context().catalog
    volumes = {f"mv{k:02d}": generate_volume(k, (24 + 8 * k, 20, 6)) for k in (2, 1)}  # mv01 is 32 x 20
    catalog.save("raw_images", {vid: NiftiVolume.from_array(v.image, v.spacing) for vid, v in volumes.items()})
    catalog.save("volume_manifest", pd.DataFrame({"volume_id": [f"mv{k:02d}" for k in range(1, 13)]}))
    splits = {
        "test": ["mv01", "mv02"],
        "folds": [{"train": [f"mv{k:02d}" for k in range(3, 10)], "val": ["mv10", "mv11", "mv12"]}] * 2,
        "seed": 42,
        "strategy": "hand-written",
    }
    catalog.save("splits", splits)
    model = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32))).state_dict()
    catalog.save("best_model", model)
    return model


@pytest.mark.slow
def test_viz_build_writes_a_static_site_with_previews(project_copy) -> None:
    """KEDRO_ENV=demo kedro viz build --include-previews, with demo files present (written here directly)."""
    model = _write_demo_data(project_copy)

    panels = _build(project_copy, "--include-previews", KEDRO_ENV="demo")

    site = project_copy / "build"
    assert '<div id="root"' in (site / "index.html").read_text()
    for pipeline in PIPELINES:
        # One JSON per registered pipeline: the pipeline selector of the static site.
        own = {node["name"] for node in json.loads((site / "api" / "pipelines" / pipeline).read_text())["nodes"]}
        assert node_names(pipeline) <= own
        # The main flowchart (and its node panels) is __default__: the study, not inference.
        assert (node_names(pipeline) <= set(panels)) == (pipeline in STUDY_PIPELINES)

    raw = panels["raw_images"]
    assert raw["preview_type"] == "ImagePreview"
    slice_png = Image.open(io.BytesIO(base64.b64decode(raw["preview"])))
    assert slice_png.size == (32, 20)  # mv01 (H x W = 32 x 20), the first volume id, drawn W rows by H columns
    assert np.asarray(slice_png).std() > 0

    assert panels["splits"]["preview_type"] == "TablePreview"
    assert panels["splits"]["preview"]["columns"] == ["fold", "train", "val", "test"]
    assert panels["splits"]["preview"]["data"] == [[0, 7, 3, 2], [1, 7, 3, 2]]

    model_table = panels["best_model"]["preview"]
    assert panels["best_model"]["preview_type"] == "TablePreview"
    assert model_table["data"][0][3] == sum(tensor.numel() for tensor in model.values())
    assert [row[0] for row in model_table["data"][1:]] == list(model)

    manifest = panels["volume_manifest"]["preview"]  # the head: preview_args nrows 10 in the catalog
    assert [row[0] for row in manifest["data"]] == [f"mv{k:02d}" for k in range(1, 11)]

    assert panels["predictions"]["preview"] is None  # nothing evaluated yet: no preview, no failure
