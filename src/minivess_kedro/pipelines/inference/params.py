"""Typed ``inference`` parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from minivess_kedro.inference.registered_model import checked_model_uri
from minivess_kedro.pipelines.params_base import StrictParams


class InferenceParams(StrictParams):
    """``inference:`` in ``parameters_inference.yml``.

    ``input``, ``model`` and ``output`` are read by the catalog (``catalog_inference.yml``), which
    sees only the command line's ``--params``: set them there. They are fields here so that the
    command line's values are validated with the others (a malformed URI fails before the run).
    """

    input: str | None = None
    model: str | None = None
    output: str | None = None
    postprocessing: Literal["auto", "none", "components"] = "auto"
    allow_postprocessing_mismatch: bool = False
    save_probability: bool = False
    save_segments: bool = False
    save_ome_tiff: bool = False

    @property
    def optional_files(self) -> tuple[str, ...]:
        """The optional files asked for, by kind (``segments``, ``ome_tiff``)."""
        return tuple(
            kind for kind, wanted in (("segments", self.save_segments), ("ome_tiff", self.save_ome_tiff)) if wanted
        )

    _model_uri = field_validator("model")(checked_model_uri)


# Where the catalog (catalog_inference.yml) reads each key that names a place.
CATALOG_KEYS = {
    "input": ("inference_volumes", "folder"),
    "model": ("inference_model", "uri"),
    "output": ("inference_results", "output_folder"),
}


def check_catalog_sees_command_line_keys(
    parameters: dict, conf_catalog: dict, group: str = "inference", keys: dict = CATALOG_KEYS
) -> list[str]:
    """The folders and the model URI the parameters name must be those the catalog uses.

    The catalog's ``${runtime_params:...}`` sees the command line only: ``inference.input`` set in
    ``conf/<env>/parameters_inference.yml`` would reach the node but not the datasets.

    Args:
        parameters: the resolved parameters.
        conf_catalog: the resolved catalog configuration.
        group: the parameter group (``inference``, ``export``).
        keys: its keys that name places: key -> (dataset, argument).

    Returns:
        One line per key that differs, naming it and the ``--params`` to use instead.
    """
    inference = parameters.get(group) or {}
    problems = []
    for key, (dataset, argument) in keys.items():
        if dataset not in conf_catalog:
            continue
        ours, theirs = inference.get(key) or "", conf_catalog[dataset].get(argument) or ""
        if str(ours).strip() != str(theirs).strip():
            problems.append(
                f"{group}.{key}={ours!r} is set in a parameters file, but the catalog reads it from the command "
                f"line only ({theirs!r}): pass `--params {group}.{key}={ours}` instead"
            )
    return problems
