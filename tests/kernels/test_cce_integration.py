"""The loss inside ``torch.compile``d models, and the error messages for bad input."""

from __future__ import annotations

import pytest
import torch
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
