"""Data-parallel training across processes launched by ``torchrun`` (PyTorch DDP).

``torchrun`` tells each process its place through the environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``); a plain ``kedro run`` has none of these and
trains in one process. Rank 0 is the only process that writes files or talks to MLflow.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from minivess_kedro.training.data import LoaderSettings
from minivess_kedro.training.device import resolve_device
from minivess_kedro.training.launch import DistributedContext, launch_context

T = TypeVar("T")


def start_process_group(requested_device: str = "auto") -> tuple[DistributedContext, torch.device]:
    """Joins the process group of a ``torchrun`` launch and picks this process's device.

    NCCL on GPUs (one GPU per process, by local rank), gloo on the CPU. Outside ``torchrun`` it
    only resolves the device.

    Raises:
        ValueError: more processes on this machine than GPUs.
    """
    context = launch_context()
    device = resolve_device(requested_device)
    if not context.is_distributed:
        return context, device
    if device.type == "cuda":
        if context.local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"local rank {context.local_rank} has no GPU: this machine has {torch.cuda.device_count()}; "
                "start torchrun with --nproc_per_node at most the number of GPUs"
            )
        device = torch.device("cuda", context.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        cuda = device.type == "cuda"
        dist.init_process_group(backend="nccl" if cuda else "gloo", device_id=device if cuda else None)
        _owned_groups.append(True)
    return context, device


_owned_groups: list[bool] = []  # process groups that start_process_group opened (and may close)


def stop_process_group(finished: bool = False) -> None:
    """Leaves the process group that :func:`start_process_group` joined; a group opened by the
    caller (a launcher, a test harness) is left to it.

    Args:
        finished: every process got here normally: wait for all of them first, so that none
            tears down its connections while another still reads from them (gloo then aborts the
            slower process). After an error there is no waiting: the others may never arrive.
    """
    if _owned_groups and dist.is_initialized():
        # A DDP wrapper and its module hold each other (parameter hooks) and so the group: collect
        # the ones the caller has let go of now, not during interpreter shutdown, where a gloo
        # group that is still alive can abort the process.
        gc.collect()
        if finished:
            dist.barrier()
        _owned_groups.pop()
        dist.destroy_process_group()


def wrap_model(model: nn.Module, context: DistributedContext, device: torch.device) -> nn.Module:
    """The module to train: ``DistributedDataParallel`` around ``model`` across processes (it
    averages the gradients), ``model`` itself in one process."""
    if not context.is_distributed:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids, output_device=ids[0] if ids else None)


def per_process_loader(settings: LoaderSettings, context: DistributedContext) -> LoaderSettings:
    """The profile's batch size is for the whole job and its loader workers for one machine; each
    process gets its share.

    Raises:
        ValueError: a global batch size that the processes cannot share evenly (names the key).
    """
    if not context.is_distributed:
        return settings
    if settings.batch_size % context.world_size:
        nearest = context.world_size * max(1, settings.batch_size // context.world_size)
        raise ValueError(
            f"training.compute.batch_size={settings.batch_size} is the global batch and must be a multiple of "
            f"the {context.world_size} processes; set it to {nearest}"
        )
    return replace(
        settings,
        batch_size=settings.batch_size // context.world_size,
        num_workers=settings.num_workers // context.local_world_size,
    )


def broadcast_from_main(value: T, context: DistributedContext) -> T:
    """Rank 0's ``value`` on every process (any picklable object)."""
    if not context.is_distributed:
        return value
    holder = [value if context.is_main else None]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def gather_lists(values: Sequence[T], context: DistributedContext) -> list[T]:
    """Every process's ``values`` concatenated, in rank order, on every process."""
    if not context.is_distributed:
        return list(values)
    gathered: list[Any] = [None] * context.world_size
    dist.all_gather_object(gathered, list(values))
    return [value for part in gathered for value in part]


def mean_across(values: dict[str, float], context: DistributedContext) -> dict[str, float]:
    """Each value averaged over the processes (the same keys on every process)."""
    if not context.is_distributed:
        return dict(values)
    tensor = torch.tensor([float(values[key]) for key in sorted(values)], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor)
    return dict(zip(sorted(values), (tensor.cpu() / context.world_size).tolist(), strict=True))


def sync_buffers(model: nn.Module, context: DistributedContext) -> None:
    """Rank 0's buffers (BatchNorm running statistics) on every process. DDP broadcasts them at
    the start of each forward, so after an epoch's last forward every process holds the statistics
    of its own last batch; validation and the checkpoint need one set."""
    if not context.is_distributed:
        return
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)


def any_process_fails(failed: bool, context: DistributedContext, device: torch.device) -> bool:
    """Whether ``failed`` holds on any process (every process must take the same exit)."""
    if not context.is_distributed:
        return failed
    flag = torch.tensor(float(failed), device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def parameter_digest(model: nn.Module) -> str:
    """SHA-256 of every parameter and buffer, in state-dict order: equal digests, equal models."""
    return state_digest(model.state_dict())


def state_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of a state dict's names and tensor bytes, in order."""
    digest = hashlib.sha256()
    for name, tensor in state.items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def check_replicas_agree(model: nn.Module, context: DistributedContext) -> str:
    """The model's digest, after checking that every process holds the same weights.

    Raises:
        RuntimeError: the replicas diverged (names the ranks that differ from rank 0).
    """
    digest = parameter_digest(model)
    digests = gather_lists([digest], context)
    differing = [rank for rank, other in enumerate(digests) if other != digests[0]]
    if differing:
        raise RuntimeError(f"DDP replicas diverged: ranks {differing} hold other weights than rank 0")
    return digest
