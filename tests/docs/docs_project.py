"""The project as the documented commands see it: its Kedro CLI, pipelines, envs and MLflow store."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader
from kedro.framework.cli.cli import KedroCLI
from kedro.pipeline import Pipeline

from minivess_kedro import settings


class CommandCheckError(Exception):
    """A documented command that would not work as written; the message says why."""


@dataclass
class DocsProject:
    """What the checks need to know about the project, loaded once.

    Attributes:
        root: the project root (pyproject.toml, conf/, docs/).
        parameter_checks: the (env, runtime params) checked so far and the error of each.
    """

    root: Path
    parameter_checks: dict[str, str] = field(default_factory=dict)  # (env, params) -> error, "" if none

    @cached_property
    def kedro_cli(self) -> KedroCLI:
        """Kedro's own CLI for this project: global, plugin (viz, mlflow) and project commands."""
        return KedroCLI(self.root)  # bootstraps the project (settings, pipeline registry)

    @cached_property
    def pipelines(self) -> dict[str, Pipeline]:
        """The registered pipelines, by name (``__default__`` included)."""
        self.kedro_cli  # noqa: B018 - the registry is readable once the project is bootstrapped
        from kedro.framework.project import pipelines  # noqa: PLC0415

        return dict(pipelines)

    @cached_property
    def envs(self) -> list[str]:
        """Configuration environments: the folders of conf/."""
        return sorted(path.name for path in (self.root / "conf").iterdir() if path.is_dir())

    def config_loader(self, env: str | None, runtime_params: dict[str, Any] | None = None) -> OmegaConfigLoader:
        """The config loader a session would create (the project's settings, ``local`` by default)."""
        return OmegaConfigLoader(
            conf_source=str(self.root / "conf"),
            env=env or settings.CONFIG_LOADER_ARGS["default_run_env"],
            runtime_params=runtime_params,
            **settings.CONFIG_LOADER_ARGS,
        )

    @cached_property
    def tracking_uris(self) -> set[str]:
        """The MLflow tracking URI of every env (where ``mlflow ui`` must look)."""
        return {self.config_loader(env)["mlflow"]["server"]["mlflow_tracking_uri"] for env in self.envs}

    def check_env(self, env: str | None) -> None:
        """Raises unless ``env`` is a folder of conf/."""
        if env is not None and env not in self.envs:
            raise CommandCheckError(f"--env {env}: there is no conf/{env}/ (envs: {', '.join(self.envs)})")
