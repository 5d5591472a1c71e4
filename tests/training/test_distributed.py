"""DDP on the CPU: two gloo processes train the tiny fold; replicas agree, resume is exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch.multiprocessing as mp

from minivess_kedro.training import LoaderSettings, load_checkpoint
from minivess_kedro.training.distributed import DistributedContext, per_process_loader
from tests.local_ports import free_port
from tests.training import ddp_worker

WORLD = 2
TIMINGS = ("seconds", "data_wait_fraction")


def _curves(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k not in TIMINGS} for record in history]


def _spawn(folder: Path, out: Path, stop_after_epoch: int | None = None) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    args = (WORLD, free_port(), str(folder), str(out), stop_after_epoch)
    mp.spawn(ddp_worker.train, args=args, nprocs=WORLD, join=True)
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(WORLD)]


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory) -> tuple[Path, list[dict]]:
    root = tmp_path_factory.mktemp("ddp")
    return root / "checkpoints", _spawn(root / "checkpoints", root / "out")


def test_replicas_hold_the_same_model_and_curves(straight_run) -> None:
    folder, (rank0, rank1) = straight_run
    assert rank0["batch_size"] == rank1["batch_size"] == 2  # the global batch of 4, shared
    assert rank0["digest"] == rank1["digest"]  # weights and batch-norm statistics
    assert rank0["rank1_failure_seen"] and rank1["rank1_failure_seen"]  # one process's failure stops all
    # Losses are averaged and validation volumes pooled across processes: one curve for the job.
    assert rank0["history"] == rank1["history"]
    assert [record["epoch"] for record in rank0["history"]] == [0, 1, 2]
    assert "val_cldice" in rank0["history"][-1]
    assert load_checkpoint(folder / "last.pt")["epoch"] == 3  # rank 0 wrote the checkpoints
    assert not list(folder.glob("*.partial"))


def test_interrupted_job_resumes_to_the_uninterrupted_model(straight_run, tmp_path) -> None:
    _, (straight, _) = straight_run
    interrupted = _spawn(tmp_path / "checkpoints", tmp_path / "first", stop_after_epoch=1)
    assert [record["interrupted_after"] for record in interrupted] == [1, 1]
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["epoch"] == 2

    resumed = _spawn(tmp_path / "checkpoints", tmp_path / "second")

    assert [record["resumed_from_epoch"] for record in resumed] == [2, 2]
    assert _curves(resumed[0]["history"]) == _curves(straight["history"])
    assert resumed[0]["digest"] == resumed[1]["digest"] == straight["digest"]
    assert resumed[0]["best_digest"] == straight["best_digest"]


def test_global_batch_is_shared_by_the_processes() -> None:
    settings = LoaderSettings(patch_size=(16, 16, 8), batch_size=8, num_workers=16)
    two_machines = DistributedContext(rank=1, world_size=8, local_rank=1, local_world_size=4)
    share = per_process_loader(settings, two_machines)
    assert (share.batch_size, share.num_workers) == (1, 4)  # the batch per job, the workers per machine
    assert per_process_loader(settings, DistributedContext()) == settings


def test_uneven_global_batch_is_refused_naming_the_key() -> None:
    settings = LoaderSettings(patch_size=(16, 16, 8), batch_size=6)
    with pytest.raises(ValueError, match=r"training\.compute\.batch_size=6 .* 4 processes; set it to 4"):
        per_process_loader(settings, DistributedContext(rank=0, world_size=4))
