"""One-shot GPU check of the Triton CCE kernels: correctness first, then the Gemma-2-2B benchmark, under 10 minutes.

    python scripts/gpu_check_cce.py            # needs CUDA, triton, cut-cross-entropy, liger-kernel

Correctness: the Triton path (exact and filtered) against a float64 oracle on shapes that are not multiples of
the tile sizes, in fp32 / bf16 / fp16, with every option; exits non-zero on the first mismatch so a broken
kernel is never timed. Then ``scripts/bench_cce.py --device cuda --dtype bfloat16`` (N=8192, D=2304, V=256000)
writes its table to kernels/BENCHMARKS_GPU.md.

Not yet run: no CUDA machine was available when this was written (all Triton tests so far ran under
TRITON_INTERPRET=1 on CPU).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "kernels"))

CASES = [
    dict(),
    dict(reduction="none", shift=1, return_lse=True),
    dict(softcap=30.0, logit_scale=0.5, z_loss=1e-4, reduction="sum"),
    dict(label_smoothing=0.1, bias=True),
]


def check_correctness() -> None:
    from cce_oracle import oracle_loss

    from lamina_kernels import linear_cross_entropy

    torch.manual_seed(0)
    for dtype, tol in ((torch.float32, 1e-4), (torch.bfloat16, 2e-2), (torch.float16, 5e-3)):
        for case in CASES:
            kwargs = dict(case)
            use_bias = kwargs.pop("bias", False)
            e = torch.randn(3, 301, 2304 // 8 + 7, device="cuda")
            c = torch.randn(50001, e.shape[-1], device="cuda") * (2.0 / e.shape[-1] ** 0.5)
            targets = torch.randint(0, c.shape[0], e.shape[:-1], device="cuda")
            targets[0, :40] = -100
            b = torch.randn(c.shape[0], device="cuda") if use_bias else None
            inputs = [t.to(dtype).requires_grad_(True) for t in (e, c)]
            bias = None if b is None else b.to(dtype).requires_grad_(True)
            for eps in (None, "auto"):
                results = []
                for fn, extra in (
                    (linear_cross_entropy, dict(impl="triton", filter_eps=eps)),
                    (oracle_loss, {}),
                ):
                    for t in (*inputs, bias):
                        if t is not None:
                            t.grad = None
                    out = fn(*inputs, targets, bias=bias, **kwargs, **extra)
                    outs = out if isinstance(out, tuple) else (out,)
                    sum(o.double().sum() for o in outs).backward()
                    grads = [t.grad.double() for t in (*inputs, bias) if t is not None]
                    results.append([o.detach().double() for o in outs] + grads)
                names = ["loss", "lse"][: len(results[0]) - len(grads)] + ["dE", "dC", "dbias"][: len(grads)]
                for name, got, want in zip(names, *results, strict=True):
                    assert torch.isfinite(got).all(), f"{dtype} {case} eps={eps}: non-finite {name}"
                    err = (got - want).abs().max().item() / (want.abs().max().item() + 1e-12)
                    limit = tol if eps is None else max(tol, 5e-2)
                    assert err <= limit, (
                        f"{dtype} {case} eps={eps}: {name} relative error {err:.2e} > {limit}"
                    )
            print(f"ok {dtype} {case}", flush=True)


def main() -> None:
    if not torch.cuda.is_available():
        sys.exit("gpu_check_cce.py needs a CUDA device.")
    start = time.time()
    check_correctness()
    print(f"correctness ok in {time.time() - start:.0f} s", flush=True)
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_cce.py"), "--device", "cuda", "--dtype", "bfloat16"]
    cmd += ["--reps", "5", "--out", str(ROOT / "kernels" / "BENCHMARKS_GPU.md")]
    subprocess.run(cmd, check=True)
    print(f"done in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
