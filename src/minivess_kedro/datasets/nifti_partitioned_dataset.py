"""``NiftiPartitionedDataset``: a folder of NIfTI volumes whose kedro-viz preview is one volume's mid slice."""

from __future__ import annotations

from kedro.io.core import DatasetError
from kedro_datasets._typing import ImagePreview
from kedro_datasets.partitions import PartitionedDataset

from minivess_kedro.datasets.previews import volume_slice_preview
from minivess_kedro.io.nifti import NiftiVolume


class NiftiPartitionedDataset(PartitionedDataset):
    """A ``PartitionedDataset`` of :class:`NiftiDataset` volumes (``{volume id: loader}``).

    Loading and saving are ``PartitionedDataset``'s; this class only adds :meth:`preview`,
    which ``PartitionedDataset`` lacks, so kedro-viz shows a slice of the raw volumes and of
    the predictions.

    Example catalog entry::

        raw_images:
          type: minivess_kedro.datasets.NiftiPartitionedDataset
          path: data/01_raw/synthetic/imagesTr
          dataset:
            type: minivess_kedro.datasets.NiftiDataset
          filename_suffix: .nii.gz
          metadata:
            kedro-viz:
              preview_args:
                partition: mv05     # default: the first volume id in sorted order
    """

    def preview(self, partition: str | None = None) -> ImagePreview:
        """The middle slice of one volume as a base64 PNG; only that volume is read.

        Args:
            partition: the volume id to show; the first id in sorted order when ``None``.

        Returns:
            The PNG that kedro-viz renders as an image.

        Raises:
            DatasetError: the folder has no volumes, ``partition`` is not one of them, or the
                partitions are not NIfTI volumes.
        """
        loaders = self.load()  # raises DatasetError naming the folder when it is empty
        chosen = partition if partition is not None else min(loaders)
        if chosen not in loaders:
            raise DatasetError(f"{self._path}: no volume '{chosen}' to preview; volumes: {sorted(loaders)}")
        volume = loaders[chosen]()
        if not isinstance(volume, NiftiVolume):
            raise DatasetError(f"{self._path}: partition '{chosen}' is a {type(volume).__name__}, not a NiftiVolume")
        return volume_slice_preview(volume.array)
