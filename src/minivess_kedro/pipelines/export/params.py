"""Typed ``export`` parameters."""

from __future__ import annotations

from pydantic import field_validator

from minivess_kedro.inference.registered_model import checked_model_uri
from minivess_kedro.pipelines.params_base import StrictParams


class ExportParams(StrictParams):
    """``export:`` in ``parameters_export.yml``.

    ``model`` and ``output`` are read by the catalog (``catalog_export.yml``), which sees only the
    command line's ``--params``; they are fields here so that a malformed URI fails before the run.
    """

    model: str | None = None
    output: str | None = None

    _model_uri = field_validator("model")(checked_model_uri)


# Where the catalog (catalog_export.yml) reads each key that names a place.
CATALOG_KEYS = {"model": ("export_model", "uri"), "output": ("monai_bundle", "output_folder")}
