"""Kedro datasets of the project (kedro-specific I/O)."""

from minivess_kedro.datasets.nifti_dataset import NiftiDataset

__all__ = ["NiftiDataset"]
