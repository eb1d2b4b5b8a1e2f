"""The fused loss under DistributedDataParallel: 2 CPU processes with gloo.

Kept in its own file, collected before ``test_cce_integration.py``: in a process that has already run
``torch.compile`` the spawned ranks were seen to hang at start-up on this machine (not yet understood).
"""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from test_cce_integration import TinyLM
from torch import nn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ddp_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    torch.distributed.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=120),  # fail instead of hanging the suite if a peer never arrives
    )
    try:
        torch.manual_seed(0)
        model = TinyLM()
        ddp = nn.parallel.DistributedDataParallel(model)
        tokens = torch.randint(0, 53, (2 * world, 17), generator=torch.Generator().manual_seed(1))
        local = tokens[rank * 2 : rank * 2 + 2]
        ddp(local).backward()
        torch.save({n: p.grad for n, p in model.named_parameters()}, Path(out_dir) / f"rank{rank}.pt")
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_ddp_gradients_of_replicated_classifier_match_single_process(tmp_path: Path) -> None:
    """Two ranks with different halves of a batch: every rank ends with the average of the per-half gradients.

    The expectation is computed in this process without DDP, half by half, so a fused path whose gradients
    bypassed DDP's all-reduce hooks (or arrived after them) would fail.
    """
    world = 2
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    mp.spawn(ddp_worker, args=(world, free_port(), str(tmp_path)), nprocs=world, join=True)
    torch.manual_seed(0)
    model = TinyLM()
    tokens = torch.randint(0, 53, (2 * world, 17), generator=torch.Generator().manual_seed(1))
    for rank in range(world):
        (model(tokens[rank * 2 : rank * 2 + 2]) / world).backward()
    for rank in range(world):
        got = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        for name, param in model.named_parameters():
            torch.testing.assert_close(
                got[name],
                param.grad,
                rtol=1e-5,
                atol=1e-6,
                msg=lambda m, r=rank, n=name: f"rank {r}: {n}: {m}",
            )
