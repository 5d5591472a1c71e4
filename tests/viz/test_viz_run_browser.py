"""`kedro viz run` on a fresh clone (no data at all), loaded in headless Chromium."""

from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest
from PIL import Image

from tests.viz.chromium import chromium_or_skip, render_page
from tests.viz.pipeline_nodes import PIPELINES, STUDY_PIPELINES, graph_labels, node_names
from tests.viz.viz_server import viz_run

WINDOW = (1600, 1000)


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_viz_run_draws_every_pipeline_in_a_browser(project_copy, project_root, tmp_path) -> None:
    """kedro viz run --host 127.0.0.1 --port <port> --no-browser; the page, as a browser renders it."""
    chromium = chromium_or_skip()
    screenshot = project_root / "artifacts" / "viz" / "kedro-viz-run.png"
    screenshot.unlink(missing_ok=True)
    assert not (project_copy / "data").exists()  # nothing downloaded, generated or run yet

    with viz_run(project_copy, tmp_path / "kedro-viz.log") as url:
        dom = render_page(chromium, f"{url}/", screenshot=screenshot, profile=tmp_path / "chromium", size=WINDOW)
        graph = _get_json(f"{url}/api/main")
        # inference is not in the default flowchart: the selector's JSON of it has its nodes.
        inference = {node["name"] for node in _get_json(f"{url}/api/pipelines/inference")["nodes"]}
        # Every node's metadata panel answers although no dataset has a file to preview.
        panels = {node["name"]: _get_json(f"{url}/api/nodes/{node['id']}") for node in graph["nodes"]}
    screenshot.with_suffix(".html").write_text(dom)

    drawn = graph_labels(dom)
    for pipeline in STUDY_PIPELINES:  # the default flowchart: the study
        assert node_names(pipeline) <= drawn, f"{pipeline}: not drawn: {sorted(node_names(pipeline) - drawn)}"
    assert {entry["id"] for entry in graph["pipelines"]} >= set(PIPELINES)
    assert node_names("inference") <= inference
    assert panels["raw_images"]["type"].endswith("datasets.nifti_partitioned_dataset.NiftiPartitionedDataset")
    assert panels["raw_images"].get("preview") is None and panels["best_model"].get("preview") is None

    image = np.asarray(Image.open(screenshot).convert("L"))
    assert image.shape == (WINDOW[1], WINDOW[0])
    assert image.std() > 10  # a drawn page, not a blank or error screen
