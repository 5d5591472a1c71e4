"""Kedro datasets of the project (kedro-specific I/O); each has a kedro-viz preview."""

from minivess_kedro.datasets.nifti_dataset import NiftiDataset
from minivess_kedro.datasets.nifti_partitioned_dataset import NiftiPartitionedDataset
from minivess_kedro.datasets.splits_dataset import SplitsJSONDataset
from minivess_kedro.datasets.torch_state_dataset import TorchStateDictDataset

__all__ = ["NiftiDataset", "NiftiPartitionedDataset", "SplitsJSONDataset", "TorchStateDictDataset"]
