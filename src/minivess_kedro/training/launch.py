"""Where this process stands in a ``torchrun`` launch, read from the environment.

Kept free of torch so that settings.py (imported by every ``kedro`` command) stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DistributedContext:
    """This process's place among the training processes.

    Attributes:
        rank: global index of the process (0 writes checkpoints, outputs and MLflow records).
        world_size: number of processes.
        local_rank: index on this machine (selects the GPU).
        local_world_size: processes on this machine (they share its CPUs).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launch_context() -> DistributedContext:
    """The context ``torchrun`` put in the environment (one process when it did not)."""
    return DistributedContext(
        rank=int(os.environ.get("RANK", "0")),
        world_size=int(os.environ.get("WORLD_SIZE", "1")),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1"))),
    )


def is_main_process() -> bool:
    """Whether this process is rank 0 (true outside ``torchrun``)."""
    return launch_context().is_main
