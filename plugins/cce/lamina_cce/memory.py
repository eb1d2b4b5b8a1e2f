"""Experiment 2: peak memory of the loss+gradient and of a whole training step at large vocabularies.

Each measurement runs in a fresh child process, so one implementation's freed buffers cannot hide another's peak:
the child builds its inputs, runs one warm-up step, resets the kernel's resident-set high-water mark
(``/proc/self/clear_refs``), records the resident memory as the baseline, runs the measured step once, and reports
the high-water mark above that baseline. glibc serves every allocation above 64 KiB with ``mmap``
(``MALLOC_MMAP_THRESHOLD_``), so large freed buffers really leave the process. On a GPU the same numbers come from
``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

MIB = 1024 * 1024


@dataclass(frozen=True)
class MemoryCase:
    """One measurement: ``mode`` is ``loss`` (loss + gradients only) or ``step`` (a whole AdamW training step)."""

    mode: str
    impl: str
    vocab: int
    tokens: int
    hidden: int
    layers: int = 2
    device: str = "cpu"


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status (this measurement needs Linux).")


class _PeakMeter:
    """Peak memory above a baseline: resident set on CPU (VmHWM), allocator peak on CUDA."""

    def __init__(self, device: str) -> None:
        self.device = device

    def reset(self) -> None:
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.baseline = torch.cuda.memory_allocated()
        else:
            Path("/proc/self/clear_refs").write_text("5\n")  # reset VmHWM to the current VmRSS
            self.baseline = _status_kib("VmRSS") * 1024

    def peak_above_baseline(self) -> int:
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() - self.baseline
        return _status_kib("VmHWM") * 1024 - self.baseline


def _loss_step(case: MemoryCase):
    import torch

    from lamina.lm.loss import causal_lm_loss

    generator = torch.Generator().manual_seed(0)
    e = torch.randn(1, case.tokens, case.hidden, generator=generator).to(case.device).requires_grad_()
    c = (torch.randn(case.vocab, case.hidden, generator=generator) / case.hidden**0.5).to(case.device)
    c.requires_grad_()
    targets = torch.randint(0, case.vocab, (1, case.tokens), generator=generator).to(case.device)

    def step() -> None:
        e.grad = c.grad = None
        causal_lm_loss(e, c, targets, impl=case.impl).backward()

    return step


def _training_step(case: MemoryCase):
    import torch

    from lamina.lm.module import CausalLM

    config = {
        "vocab_size": case.vocab,
        "hidden_size": case.hidden,
        "intermediate_size": 2 * case.hidden,
        "num_hidden_layers": case.layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "tie_word_embeddings": True,
        "max_position_embeddings": case.tokens,
    }
    torch.manual_seed(0)
    model = CausalLM(family="llama", config=config, loss_impl=case.impl).to(case.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    input_ids = torch.randint(0, case.vocab, (1, case.tokens), device=case.device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        model.loss({"input_ids": input_ids}).backward()
        optimizer.step()

    return step


def measure_in_this_process(case: MemoryCase) -> dict:
    """Warm up, reset the peak, run once: ``{"peak_mib", "seconds", ...}`` (called inside the child)."""
    step = _loss_step(case) if case.mode == "loss" else _training_step(case)
    step()  # warm-up: allocator pools, optimizer state, torch.compile
    meter = _PeakMeter(case.device)
    meter.reset()
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    return {**asdict(case), "peak_mib": meter.peak_above_baseline() / MIB, "seconds": seconds}


def measure(case: MemoryCase, timeout_s: float = 900) -> dict:
    """Run ``case`` in a fresh interpreter and return its measurement."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    env.setdefault("OMP_NUM_THREADS", "2")
    completed = subprocess.run(
        [sys.executable, "-m", "lamina_cce.memory", json.dumps(asdict(case))],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout_s,
        cwd=Path.home(),
    )
    if completed.returncode != 0:
        raise RuntimeError(f"memory measurement {case} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def logits_mib(tokens: int, vocab: int, bytes_per_value: int = 4) -> float:
    """Size of one ``tokens x vocab`` logit matrix: what the baseline must hold (at least twice, with its grad)."""
    return tokens * vocab * bytes_per_value / MIB


def gradient_mib(tokens: int, vocab: int, hidden: int, bytes_per_value: int = 4) -> float:
    """Size of the gradients dE (tokens x hidden) and dC (vocab x hidden): every implementation must return them."""
    return (tokens + vocab) * hidden * bytes_per_value / MIB


def memory_table(results: list[dict], baseline: str = "torch") -> list[dict]:
    """Rows for the README: peak per implementation, its ratio to the full-logit baseline, and (for the loss)
    the memory beyond the gradients themselves, which is what the paper's "loss memory" column counts."""
    base = {(r["mode"], r["vocab"]): r["peak_mib"] for r in results if r["impl"] == baseline}
    rows = []
    for r in results:
        reference = base.get((r["mode"], r["vocab"]))
        beyond = r["peak_mib"] - gradient_mib(r["tokens"], r["vocab"], r["hidden"])
        rows.append(
            {
                "what": "loss + gradient" if r["mode"] == "loss" else "training step",
                "vocab": r["vocab"],
                "tokens": r["tokens"],
                "hidden": r["hidden"],
                "impl": r["impl"],
                "peak MiB": round(r["peak_mib"], 1),
                "x baseline": round(r["peak_mib"] / reference, 3) if reference else "",
                "MiB beyond dE+dC": round(beyond, 1) if r["mode"] == "loss" else "",
                "seconds": round(r["seconds"], 2),
                "logits MiB (fp32)": round(logits_mib(r["tokens"], r["vocab"]), 1),
            }
        )
    return rows


if __name__ == "__main__":
    result = measure_in_this_process(MemoryCase(**json.loads(sys.argv[1])))
    print(json.dumps(result))
