"""Every parameter group's schema, checked together before a run starts.

Nodes receive plain dicts (so that kedro-mlflow logs them flattened, ``training.compute.batch_size``)
and read them through these models; the project hook validates all groups first, so a typo or a
bad value stops the run before any work, with every problem and its key listed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from minivess_kedro.losses import LOSS_NAMES, build_loss
from minivess_kedro.pipelines.data_ingestion.params import DataIngestionParams
from minivess_kedro.pipelines.evaluation.params import EvaluationParams
from minivess_kedro.pipelines.export.params import ExportParams
from minivess_kedro.pipelines.inference.params import InferenceParams
from minivess_kedro.pipelines.reporting.params import ReportingParams
from minivess_kedro.pipelines.splitting.params import SplittingParams
from minivess_kedro.pipelines.training.params import TrainingParams
from minivess_kedro.sweep.grid import seed_suffix

PARAMETER_MODELS: dict[str, type[BaseModel]] = {
    "data_ingestion": DataIngestionParams,
    "splitting": SplittingParams,
    "training": TrainingParams,
    "evaluation": EvaluationParams,
    "reporting": ReportingParams,
    "inference": InferenceParams,
    "export": ExportParams,
}


class ParameterError(ValueError):
    """Invalid parameters; the message names every bad key and what is expected."""


def _describe(group: str, error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in (group, *item["loc"]))
        line = f"{where}: {item['msg']}" + (f" (got {item['input']!r})" if item["type"] != "missing" else "")
        if item["type"] == "extra_forbidden":
            line += _closest_key(PARAMETER_MODELS[group], item["loc"])
        lines.append(line)
    return lines


def _closest_key(model: type[BaseModel], loc: tuple) -> str:
    """`` - did you mean 'max_epochs'?`` for an unknown key, from the fields of the model it is in."""
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    return f" - did you mean {close[0]!r}?" if close else ""


def validate_parameters(parameters: dict[str, Any]) -> None:
    """Checks the top-level ``loss``, ``fold_idx`` and ``seed`` and every typed group.

    Raises:
        ParameterError: listing every problem, each with its dotted key.
    """
    problems = []
    loss, fold_idx = parameters.get("loss"), parameters.get("fold_idx")
    if loss not in LOSS_NAMES:
        problems.append(f"loss={loss!r} is not a loss of the study; valid: {', '.join(LOSS_NAMES)}")
    if isinstance(fold_idx, bool) or not isinstance(fold_idx, int) or fold_idx < 0:
        problems.append(f"fold_idx={fold_idx!r} must be a fold index 0, 1, ... (an integer)")
    seed = parameters.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(
            f"seed={seed!r} must be a seed index 0, 1, ... (an integer; it trains with training.seed + seed)"
        )
    valid: dict[str, BaseModel] = {}
    for group, model in PARAMETER_MODELS.items():
        if group not in parameters:
            continue
        try:
            valid[group] = model.model_validate(parameters[group])
        except ValidationError as err:
            problems += _describe(group, err)
    splitting = valid.get("splitting")
    if splitting and not splitting.split_file and isinstance(fold_idx, int) and fold_idx >= splitting.num_folds:
        problems.append(
            f"fold_idx={fold_idx} is out of range: splitting.num_folds={splitting.num_folds} "
            f"(folds 0..{splitting.num_folds - 1})"
        )
    if "training" in valid and loss in LOSS_NAMES:
        try:
            build_loss(loss, **valid["training"].loss_kwargs.get(loss, {}))  # cheap: catches kwarg typos now
        except (ValueError, TypeError) as err:
            problems.append(f"training.loss_kwargs.{loss}: {err}")
    if problems:
        raise ParameterError(f"{len(problems)} parameter problem(s):\n  " + "\n  ".join(problems))


def check_run_cell(parameters: dict[str, Any], model_path: str) -> None:
    """The cell the parameters train must be the cell the catalog writes to.

    Catalog paths (checkpoints, predictions) and the MLflow run name follow ``--params`` and fall
    back to defaults; the nodes read the resolved parameters. A ``seed: 1`` set in
    ``conf/<env>/parameters.yml`` alone would train seed 1 into seed 0's folder and run, and the
    report would count it as seed 0.

    Args:
        parameters: the resolved parameters.
        model_path: the resolved path of the run's best model,
            ``.../06_models/<source>/<loss>/fold_<k>[-seed<s>]/best_model.pt``.

    Raises:
        ParameterError: naming every key whose configured value is not the catalog's, and the
            ``--params`` that sets both.
    """
    source_dir, loss_dir, fold_dir = Path(model_path).parts[-4:-1]
    fold_idx, seed = parameters.get("fold_idx"), parameters.get("seed", 0)
    configured = {
        "data_ingestion.source": (parameters.get("data_ingestion", {}).get("source"), source_dir),
        "loss": (parameters.get("loss"), loss_dir),
        "fold_idx, seed": (f"fold_{fold_idx}{seed_suffix(seed)}", fold_dir),
    }
    differ = {key: pair for key, pair in configured.items() if pair[0] is not None and str(pair[0]) != pair[1]}
    if not differ:
        return
    lines = [
        f"{key}: the parameters say {ours!r}, the catalog's folders {theirs!r}"
        for key, (ours, theirs) in differ.items()
    ]
    raise ParameterError(
        f"the parameters train another cell than the one the catalog writes ({model_path}):\n  "
        + "\n  ".join(lines)
        + f"\nChoose the cell on the command line, where the catalog and the MLflow run name see it: "
        f"`--params loss={parameters.get('loss')},fold_idx={fold_idx},seed={seed}` (the data source: "
        "`--params data_ingestion.source=...` or data_source in conf/<env>/globals.yml)."
    )


def parameters_hash(parameters: dict[str, Any]) -> str:
    """A short sha256 of the resolved parameters: equal iff every parameter is equal (the sweep
    skips a cell whose finished run carries the same hash, git commit and dataset fingerprint)."""
    return hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()[:16]
