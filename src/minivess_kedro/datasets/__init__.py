"""Kedro datasets of the project (kedro-specific I/O): NIfTI volumes, splits and state dicts (each
with a kedro-viz preview), the registered model, the fold ensembles and their aliases, and the
study's MLflow runs read back."""

from minivess_kedro.datasets.ensemble_registry_dataset import EnsembleRegistryDataset
from minivess_kedro.datasets.mlflow_study_runs_dataset import MlflowStudyRunsDataset
from minivess_kedro.datasets.nifti_dataset import NiftiDataset
from minivess_kedro.datasets.nifti_partitioned_dataset import NiftiPartitionedDataset
from minivess_kedro.datasets.registered_model_dataset import RegisteredModelDataset
from minivess_kedro.datasets.registry_aliases_dataset import RegistryAliasesDataset
from minivess_kedro.datasets.scores_memo_dataset import ScoresMemoDataset
from minivess_kedro.datasets.splits_dataset import SplitsJSONDataset
from minivess_kedro.datasets.torch_state_dataset import TorchStateDictDataset

__all__ = [
    "EnsembleRegistryDataset",
    "MlflowStudyRunsDataset",
    "NiftiDataset",
    "NiftiPartitionedDataset",
    "RegisteredModelDataset",
    "RegistryAliasesDataset",
    "ScoresMemoDataset",
    "SplitsJSONDataset",
    "TorchStateDictDataset",
]
