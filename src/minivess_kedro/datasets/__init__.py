"""Kedro datasets of the project (kedro-specific I/O)."""

from minivess_kedro.datasets.nifti_dataset import NiftiDataset
from minivess_kedro.datasets.torch_state_dataset import TorchStateDictDataset

__all__ = ["NiftiDataset", "TorchStateDictDataset"]
