"""What a run needs to be reproduced: the code's git commit and the installed packages."""

from __future__ import annotations

import subprocess
from importlib.metadata import distributions
from pathlib import Path


def git_commit(folder: str | Path = ".") -> str:
    """The HEAD commit of the repository holding ``folder``, with ``-dirty`` when tracked files
    have uncommitted changes; ``unknown`` outside a repository."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def frozen_requirements() -> str:
    """``name==version`` of every installed distribution, sorted (like ``pip freeze``)."""
    pins = {f"{d.metadata['Name']}=={d.version}" for d in distributions() if d.metadata["Name"]}
    return "\n".join(sorted(pins, key=str.lower)) + "\n"
