"""Resuming: a volume whose earlier output was made by the same model version, from the same
source bytes and with the same settings is not segmented again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from minivess_kedro.inference.registered_model import ModelIdentity
from minivess_kedro.inference.sliding_window import SlidingWindowConfig
from minivess_kedro.postprocessing import ComponentSettings


@dataclass(frozen=True)
class PreviousOutput:
    """An earlier run's record of one volume, and whether its files are still there.

    Attributes:
        record: the record JSON as written (``id``, ``model``, ``source``, ``settings``, ``summary``).
        mask_intact: the mask file beside it has the bytes the record names (its sha256).
        probability_intact: the same for the probability file.
        optional_intact: the kinds of optional files (segment table, OME-TIFF) that are as written.
    """

    record: dict
    mask_intact: bool
    probability_intact: bool = False
    optional_intact: frozenset[str] = frozenset()


def result_settings(window: SlidingWindowConfig, postprocessing: str, components: ComponentSettings | None) -> dict:
    """The settings that change a mask, JSON-ready: the window, its overlap and blending, the
    post-processing (with its sizes). Windows per forward pass and where they are stitched do
    not change the result and are left out."""
    return {
        "roi_size": [int(n) for n in window.roi_size],
        "overlap": float(window.overlap),
        "mode": window.mode,
        "postprocessing": postprocessing,
        "components": None if components is None else {k: float(v) for k, v in vars(components).items()},
    }


def finished_output(
    previous: Iterable[PreviousOutput],
    volume_id: str,
    model: ModelIdentity,
    source_sha256: str,
    settings: dict,
    needs_probability: bool,
    needs_optional: Iterable[str] = (),
    summary_keys: Iterable[str] = (),
) -> PreviousOutput | None:
    """The earlier output that this run would make again, if any.

    It must be of the same volume id, model name and version, source sha256 and
    :func:`result_settings`; its mask must be as written (and its probability and optional files,
    when this run saves them), and its recorded summary must hold every one of ``summary_keys``
    (a record from before a measurement existed would leave that column empty).
    """
    for output in previous:
        record = output.record
        if (
            record.get("id") == volume_id
            and (record.get("model", {}).get("name"), record.get("model", {}).get("version"))
            == (model.name, model.version)
            and record.get("source", {}).get("sha256") == source_sha256
            and record.get("settings") == settings
            and output.mask_intact
            and (output.probability_intact or not needs_probability)
            and set(needs_optional) <= output.optional_intact
            and set(summary_keys) <= set(record.get("summary") or {})
        ):
            return output
    return None
