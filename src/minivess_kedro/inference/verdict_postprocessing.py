"""The post-processing inference applies: by default the one the report's verdict judged.

An ensemble version records the post-processing of the report's tables
(:func:`~minivess_kedro.reporting.ensembles.verdict_postprocessing`); masks post-processed
otherwise are not the ones the verdict is about, so a different choice is refused unless asked for.
"""

from __future__ import annotations

from collections.abc import Mapping

from minivess_kedro.postprocessing import ComponentSettings

#: What inference can apply.
APPLICABLE: tuple[str, ...] = ("none", "components")


class PostprocessingMismatchError(ValueError):
    """The post-processing asked for is not the one the model's verdict judged."""


def chosen_postprocessing(
    requested: str,
    allow_mismatch: bool,
    recorded: Mapping | None,
    evaluation_components: ComponentSettings,
    uri: str,
) -> tuple[str, ComponentSettings | None]:
    """The post-processing of the run and its component sizes.

    Args:
        requested: ``inference.postprocessing`` (``auto``, ``none``, ``components``).
        allow_mismatch: ``inference.allow_postprocessing_mismatch``.
        recorded: the model's record (``{"mode", "components"?}``), ``None`` for a version that
            records none (one training run's network).
        evaluation_components: the sizes of ``evaluation.components`` (for ``components`` when the
            model records none).
        uri: the model's URI, for messages.

    Returns:
        ``(mode, sizes)``: ``sizes`` for ``components`` (the model's when it records them), else ``None``.

    Raises:
        PostprocessingMismatchError: a choice other than the recorded one without ``allow_mismatch``,
            or a recorded one inference cannot apply (``toposculpt``) under ``auto``.
    """
    verdict = str(recorded["mode"]) if recorded else None
    mode = (verdict or "none") if requested == "auto" else requested
    fix = (
        "drop inference.postprocessing to follow the verdict"
        if verdict in APPLICABLE
        else f"pass inference.postprocessing={'|'.join(APPLICABLE)}"
    )
    if mode not in APPLICABLE:
        raise PostprocessingMismatchError(
            f"{uri}: the report's verdict judged {mode}-post-processed masks, which inference does not apply; "
            f"{fix} with inference.allow_postprocessing_mismatch=true to segment anyway"
        )
    if verdict is not None and verdict not in APPLICABLE and not allow_mismatch:
        raise PostprocessingMismatchError(
            f"the report's verdict on {uri} judged {verdict}-post-processed masks, which inference does not apply: "
            f"add inference.allow_postprocessing_mismatch=true to use {mode}"
        )
    if verdict is not None and mode != verdict and not allow_mismatch:
        raise PostprocessingMismatchError(
            f"inference.postprocessing={mode}, but the report's verdict on {uri} judged {verdict}-post-processed "
            f"masks (the model's record): {fix}, or add inference.allow_postprocessing_mismatch=true to use {mode}"
        )
    if mode != "components":
        return mode, None
    sizes = (recorded or {}).get("components") if verdict == "components" else None
    return mode, ComponentSettings(**sizes) if sizes else evaluation_components
