"""The environment of Jupyter servers and kernels in tests: Jupyter's folders under a temporary
directory (never ~/.jupyter or ~/.local), no telemetry, no network."""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}  # the discard port


# Jupyter's data (kernel specs), config, runtime and IPython folders: variable -> folder name.
JUPYTER_FOLDERS = {
    "JUPYTER_DATA_DIR": "data",
    "JUPYTER_CONFIG_DIR": "config",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "IPYTHONDIR": "ipython",
}


def jupyter_dirs(root: Path) -> dict[str, str]:
    """Variables that point Jupyter's folders into ``root`` (created)."""
    for folder in JUPYTER_FOLDERS.values():
        (root / folder).mkdir(parents=True, exist_ok=True)
    return {variable: str(root / folder) for variable, folder in JUPYTER_FOLDERS.items()}


def server_env(root: Path) -> dict[str, str]:
    """The environment for a server subprocess: this one's, plus Jupyter's folders in ``root``,
    no Kedro telemetry and no network."""
    return {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", **OFFLINE, **jupyter_dirs(root)}
