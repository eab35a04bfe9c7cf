"""Many processes, one run: torchrun's environment -> ranks, streams, gradient averaging, agreement.

``torchrun --nproc_per_node N -m artforge train ...`` starts N copies of the command; each reads
RANK / WORLD_SIZE / LOCAL_RANK from its environment and joins one process group (NCCL on GPUs,
gloo on CPUs). ``--batch`` is the *global* batch: each process takes its own slice of every step's
batch (``part``), so N processes together see exactly the images one process would.

Gradients are averaged by hand after every phase's backward: one flattened all-reduce per network.
The DDP wrapper cannot be used because lazy R1 and gradient penalties differentiate through D's
input gradient (double backward), which DDP's bucketed hooks do not support (StyleGAN2-ADA does
the same). Decisions that could differ between processes (stop now, a loss is not finite, ADA's
probability) are reduced so that every process takes the same one and none waits forever.
BatchNorm keeps per-process statistics (of its slice of the batch); see docs/architecture.md.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import UsageError


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: str = "cpu"  # where collectives' tensors live: NCCL reduces only CUDA tensors

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_writer(self) -> bool:
        """Only rank 0 creates the run folder and writes logs, grids and checkpoints."""
        return self.rank == 0

    def part(self, batch: int) -> slice:
        """This process's rows of a global batch of ``batch`` items."""
        per = per_process_batch(batch, self.world)
        return slice(self.rank * per, (self.rank + 1) * per)

    # ------------------------------------------------------------------ collectives (no-ops on one process)

    def average_gradients(self, module: nn.Module) -> None:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not self.active or not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def agree_finite(self, loss: Tensor) -> bool:
        """True only when the loss is finite on every process."""
        finite = torch.isfinite(loss.detach()).float().reshape(1).to(self.device)
        if self.active:
            torch.distributed.all_reduce(finite, op=torch.distributed.ReduceOp.MIN)
        return bool(finite.item())

    def any(self, flag: bool) -> bool:
        """True when ``flag`` is true on any process (stop decisions: time is up, Ctrl-C)."""
        if not self.active:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item())

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """The mean over processes of each value (logged statistics); keys must agree."""
        if not self.active or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return {k: v / self.world for k, v in zip(keys, t.tolist())}

    def reduce_ada(self, ada) -> None:
        """ADA's r_t over every process's real logits since the last update."""
        if not self.active:
            return
        t = torch.tensor([ada._sum, float(ada._count)], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        ada._sum, ada._count = t[0].item(), int(t[1].item())

    def broadcast(self, obj):
        """Rank 0's ``obj`` on every process (run folder, sizing decision)."""
        if not self.active:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list:
        """Every process's ``obj``, in rank order, on every process (per-rank random states)."""
        if not self.active:
            return [obj]
        out = [None] * self.world
        torch.distributed.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.active:
            torch.distributed.barrier()


SINGLE = Distributed()


def per_process_batch(batch: int, world: int) -> int:
    if batch % world:
        raise UsageError(f"the batch of {batch} does not split over {world} processes",
                         f"pass a batch that is a multiple of {world}, e.g. {world * max(1, round(batch / world))}")
    return batch // world


def rank_seed(seed: int, rank: int, world: int) -> int:
    """The seed of a process's own random stream. One process has one stream, seeded with the run's
    seed (as ever); with several, the shared stream takes the run's seed and each rank its own."""
    if world == 1:
        return seed
    return int(np.random.SeedSequence([seed, rank]).generate_state(1, dtype=np.uint64)[0] >> 1)


def from_environment() -> Distributed:
    """Join torchrun's process group when started by it (WORLD_SIZE > 1); else one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if not torch.distributed.is_initialized():
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        torch.distributed.init_process_group(backend)
        atexit.register(_leave_process_group)
    return Distributed(rank, world, local_rank, device=f"cuda:{local_rank}" if backend == "nccl" else "cpu")


def _leave_process_group() -> None:
    """Leave the process group together, before the interpreter tears down. Left to that teardown, a
    gloo group aborted about one torchrun exit in ten on a 2-core CPU ("terminate called without an
    active exception", after the work was saved), and torchrun reported the run as failed; destroying
    it alone at exit still aborted 1 in 15. With the barrier first: 0 in 70."""
    if torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def device_for(dist: Distributed, requested: str) -> str:
    """Each process on its own GPU (cuda:LOCAL_RANK) when GPUs are used."""
    if dist.active and torch.cuda.is_available() and requested in ("auto", "cuda"):
        return f"cuda:{dist.local_rank}"
    return requested
