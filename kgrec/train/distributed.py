"""Multi-process data-parallel training: the ranks of a ``torchrun`` launch and what they share.

``torchrun --nproc_per_node N`` starts ``N`` copies of a program with ``RANK``, ``WORLD_SIZE``
and ``LOCAL_RANK`` in their environment. :func:`current_topology` reads them (or an already
initialized default process group); :func:`process_group` initializes the group for a run
(``gloo`` on CPU, ``nccl`` on CUDA, each rank on ``cuda:LOCAL_RANK``) and destroys it at the
end when it made it. In one process (no ``WORLD_SIZE`` or ``WORLD_SIZE=1``) everything here is
a no-op, so the same code trains on one process or many.
"""

from __future__ import annotations

import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Iterator, Sequence

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from kgrec.errors import InvalidValueError, KgrecError, shown
from kgrec.graph.snapshot import InteractionTable
from kgrec.models.base import RankingModel
from kgrec.train.evaluation import RankingEvaluator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topology:
    """Where this process stands in a data-parallel run: ``rank`` in ``[0, world_size)`` and
    ``local_rank``, its index on its machine (the GPU it trains on)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        """More than one process trains."""
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """Rank 0: the one that logs, shows progress and writes files."""
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """The device this rank trains on: ``cuda:local_rank`` for a CUDA ``device`` when
        distributed (one GPU per rank, whatever index ``device`` names), else ``device``."""
        if self.distributed and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidValueError(f"environment variable {name} must be an integer, got {shown(value)}") from None


def current_topology() -> Topology:
    """This process's :class:`Topology`: from the default process group when one is
    initialized, else from torchrun's ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` (one process
    when they are absent). Raises :class:`InvalidValueError` for values that are not a rank of
    the world."""
    if dist.is_available() and dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
    else:
        rank, world_size = _env_int("RANK", 0), _env_int("WORLD_SIZE", 1)
    local_rank = _env_int("LOCAL_RANK", rank)
    if world_size < 1 or not 0 <= rank < world_size or local_rank < 0:
        raise InvalidValueError(
            f"not a rank of the world: RANK={rank}, WORLD_SIZE={world_size}, LOCAL_RANK={local_rank}"
        )
    return Topology(rank, world_size, local_rank)


def backend_for(device: torch.device) -> str:
    """The collective backend for ``device``: ``"nccl"`` on CUDA, ``"gloo"`` elsewhere."""
    return "nccl" if device.type == "cuda" else "gloo"


@contextmanager
def process_group(device: torch.device) -> Iterator[Topology]:
    """Yields the :class:`Topology` of a run on ``device``. Under torchrun with no default
    process group yet, initializes one (``env://``, :func:`backend_for` ``device``; on CUDA
    the rank's device is made current first) and destroys it on exit; a group initialized by
    the caller is used and left alone; in one process nothing happens."""
    topology = current_topology()
    owned = topology.distributed and not (dist.is_available() and dist.is_initialized())
    if owned:
        if not dist.is_available():
            raise KgrecError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
        if device.type == "cuda":
            torch.cuda.set_device(topology.device(device))
        dist.init_process_group(backend_for(device))  # returns once every rank has joined
        if topology.main:
            log.info("%d ranks joined the %s process group", topology.world_size, backend_for(device))
    try:
        yield topology
    finally:
        if owned:
            dist.destroy_process_group()


@contextmanager
def main_first(topology: Topology) -> Iterator[None]:
    """Runs the block on rank 0, then on the other ranks (a barrier between): for work whose
    files the others then read, such as a store write or a cache. A no-op in one process."""
    if topology.distributed and not topology.main:
        dist.barrier()
    yield
    if topology.distributed and topology.main:
        dist.barrier()


def gathered_sum(values: Sequence[float], device: torch.device) -> list[float]:
    """``values`` summed element-wise over the ranks (float64, on ``device``, whose backend
    must support it). Summed in rank order on every rank, so all ranks get the same bits."""
    local = torch.tensor(values, dtype=torch.float64, device=device)
    parts = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, local)
    return torch.stack(parts).sum(0).tolist()


def check_same(value: str, what: str) -> None:
    """Raise :class:`KgrecError` on every rank unless all ranks pass the same ``value`` (a
    fingerprint of ``what``): ranks that disagree would train different models silently."""
    values: list[str | None] = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    if len(set(values)) > 1:
        raise KgrecError(f"the ranks have different {what}: {shown(values)}; every rank must read the same data")


def data_parallel(module: torch.nn.Module, device: torch.device) -> DistributedDataParallel:
    """``module`` wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`: its
    parameters are broadcast from rank 0 once, and every ``backward`` averages the gradients
    over the ranks. ``device_ids=[device]`` on CUDA, none on CPU. Buffers are not broadcast:
    kgrec's models derive theirs from the graph (identical on ranks with the same snapshot)
    and keep no running statistics, and some are large."""
    with warnings.catch_warnings():  # deprecated in torch 2.13 for forward_sync_buffers, which still syncs at init
        warnings.filterwarnings("ignore", message=".*broadcast_buffers.*", category=FutureWarning)
        return DistributedDataParallel(
            module, device_ids=[device] if device.type == "cuda" else None, broadcast_buffers=False
        )


def user_shard(interactions: InteractionTable, topology: Topology) -> InteractionTable:
    """The rows of ``interactions`` whose user ``u`` has ``u % world_size == rank`` (every
    split, so the shard's users keep their masks); still ordered by (user, item)."""
    keep = interactions.user % topology.world_size == topology.rank
    return InteractionTable(**{f.name: getattr(interactions, f.name)[keep] for f in fields(InteractionTable)})


class ShardedEvaluator:
    """:meth:`RankingEvaluator.evaluate <kgrec.train.evaluation.RankingEvaluator.evaluate>`
    with the users split across the ranks (:func:`user_shard`): each rank ranks its users, and
    the per-user metric sums and user counts are summed over the ranks (:func:`gathered_sum`),
    so every rank gets the same metrics over all users, equal to one process's up to float
    rounding, for ``1 / world_size`` of the ranking. Each rank still runs the model's
    :meth:`~kgrec.models.RankingModel.encode` once. Needs the process group."""

    def __init__(
        self,
        interactions: InteractionTable,
        num_users: int,
        num_items: int,
        topology: Topology,
        ks: tuple[int, ...] = (10, 20),
    ) -> None:
        self.local = RankingEvaluator(user_shard(interactions, topology), num_users, num_items, ks)

    def evaluate(self, model: RankingModel, phase: str = "valid") -> dict[str, float]:
        """Mean metrics over every rank's users with items in ``phase``; ``"users"``: their number."""
        local = self.local.evaluate(model, phase)
        names = [name for name in local if name != "users"]
        count = local["users"]
        sums = gathered_sum([local[name] * count for name in names] + [count], model.device)
        users = int(sums[-1])
        return {name: total / max(users, 1) for name, total in zip(names, sums)} | {"users": users}
