"""The ``notebooks`` extra: pinned, part of ``dev``, installed as pinned."""

from __future__ import annotations

import tomllib
from importlib.metadata import version

from tests.conftest import PROJECT_ROOT


def test_notebooks_extra_is_pinned_installed_and_part_of_dev() -> None:
    """python -m pip install -e ".[notebooks]" (the same pins come with ".[dev]")"""
    extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = dict(requirement.split("==") for requirement in extras["notebooks"])

    assert set(pins) == {"jupyterlab", "ipykernel", "nbclient", "nbformat"}
    assert set(extras["notebooks"]) <= set(extras["dev"])
    assert {name: version(name) for name in pins} == pins
