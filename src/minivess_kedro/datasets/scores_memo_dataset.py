"""``ScoresMemoDataset``: the metrics ``predict_volumes`` computed beside its predictions."""

from __future__ import annotations

from typing import Any

from kedro_datasets.json import JSONDataset


class ScoresMemoDataset(JSONDataset):
    """A ``json.JSONDataset`` that loads ``{}`` when its file is absent.

    It is a memo, not a record: ``score_predictions`` takes an entry only when the digests of the
    prediction and reference it loads match the entry's (see
    :mod:`minivess_kedro.pipelines.evaluation.scores_memo`), and scores everything else itself;
    so a run evaluated before the memo existed (``kedro run --nodes score_predictions``) simply
    has nothing to reuse. Saving is ``JSONDataset``'s.
    """

    def load(self) -> dict[str, Any]:
        return super().load() if super()._exists() else {}

    def _exists(self) -> bool:
        """Always loadable, so a rerun's missing-inputs check never asks for it."""
        return True
