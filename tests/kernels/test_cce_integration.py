"""The loss inside ``torch.compile``d models and under DistributedDataParallel (2 CPU processes, gloo)."""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from lamina_kernels import LinearCrossEntropy, linear_cross_entropy


class TinyLM(nn.Module):
    """Hidden states from a small MLP, loss through the fused kernel on a separate classifier (as an LM head)."""

    def __init__(self, hidden: int = 24, vocab: int = 53, impl: str = "chunked") -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.mix = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, vocab, bias=False)
        self.loss = LinearCrossEntropy(shift=1, softcap=8.0, impl=impl)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(self.mix(self.embed(tokens)))
        labels = tokens.masked_fill(tokens % 7 == 0, -100)  # some ignored positions, as padding would be
        return self.loss(hidden, self.head.weight, labels)


def grads_of(model: nn.Module, tokens: torch.Tensor, forward) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss = forward(tokens)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("impl", ["chunked", "reference"])
def test_compiled_model_matches_eager(impl: str) -> None:
    """A compiled model (the fused path is a graph break) gives the eager loss and gradients, twice in a row."""
    torch.manual_seed(0)
    model = TinyLM(impl=impl)
    tokens = torch.randint(0, 53, (3, 17))
    eager_loss, eager_grads = grads_of(model, tokens, model)
    compiled = torch.compile(model, backend="aot_eager")
    for _ in range(2):
        loss, grads = grads_of(model, tokens, compiled)
        torch.testing.assert_close(loss, eager_loss)
        for got, want in zip(grads, eager_grads, strict=True):
            torch.testing.assert_close(got, want)


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


def test_bad_inputs_raise_errors_that_name_the_problem() -> None:
    e, c = torch.randn(4, 8), torch.randn(11, 8)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        linear_cross_entropy(e, c, torch.tensor([0, 1, 11, 2]))
    with pytest.raises(ValueError, match="Hidden size mismatch"):
        linear_cross_entropy(e, torch.randn(11, 9), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="leading shape"):
        linear_cross_entropy(e, c, torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="reduction"):
        linear_cross_entropy(e, c, torch.zeros(4, dtype=torch.long), reduction="avg")
    with pytest.raises(ValueError, match="shift=1 needs"):
        linear_cross_entropy(e[:, None], c, torch.zeros(4, 1, dtype=torch.long), shift=1)
    with pytest.raises(ValueError, match="impl"):
        linear_cross_entropy(e, c, torch.zeros(4, dtype=torch.long), impl="cuda")
    with pytest.raises(ValueError, match="share one floating dtype"):
        linear_cross_entropy(e, c.double(), torch.zeros(4, dtype=torch.long))
