"""``SplitsJSONDataset``: a splits file (or one fold of it) whose kedro-viz preview is the split sizes."""

from __future__ import annotations

from kedro.io.core import DatasetError
from kedro_datasets._typing import TablePreview
from kedro_datasets.json import JSONDataset

from minivess_kedro.datasets.previews import split_sizes_preview


class SplitsJSONDataset(JSONDataset):
    """A ``json.JSONDataset`` holding ``splits.json`` or a ``splits/fold_<k>.json``.

    Loading and saving are ``JSONDataset``'s; the preview counts the volumes of each part
    instead of listing every id, so kedro-viz shows the split sizes at a glance.
    """

    def preview(self) -> TablePreview:
        """One row per fold: the number of train, val and test volumes.

        Raises:
            DatasetError: the file is missing or is not a splits file.
        """
        splits = self.load()
        try:
            return split_sizes_preview(splits)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise DatasetError(f"{self._filepath}: cannot count the splits ({type(err).__name__}: {err})") from err
