"""Project settings: the config loader, its merge strategy and the project hooks."""

from kedro.config import OmegaConfigLoader

from minivess_kedro.framework.cell_lock import CellHold
from minivess_kedro.framework.distributed_run import DistributedRunGuard, plugins_to_disable
from minivess_kedro.framework.hooks import MissingInputCheck, RunParameterChecks
from minivess_kedro.framework.interrupted_runs import InterruptedRunMarker
from minivess_kedro.framework.mlflow_store import ProjectMlflowStore
from minivess_kedro.framework.run_record import StudyRunRecord
from minivess_kedro.sweep.grid import seed_suffix

HOOKS = (
    ProjectMlflowStore(),
    RunParameterChecks(),
    StudyRunRecord(),
    DistributedRunGuard(),
    MissingInputCheck(),
    CellHold(),
    InterruptedRunMarker(),
)

# Under torchrun, MLflow runs and other records come from rank 0 only (minivess_kedro.framework.distributed_run).
DISABLE_HOOKS_FOR_PLUGINS = plugins_to_disable()

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An env overrides only the keys it names; the default would replace whole top-level keys.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
    "config_patterns": {"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]},
    # ${seed_suffix:${runtime_params:seed, 0}}: "" for seed 0 (today's names), "-seed<s>" otherwise.
    "custom_resolvers": {"seed_suffix": seed_suffix},
}
