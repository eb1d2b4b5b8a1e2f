"""Benchmark of fused linear cross-entropy implementations; writes a markdown table (default kernels/BENCHMARKS.md).

    python scripts/bench_cce.py                      # CPU: default shape + large vocabulary
    python scripts/bench_cce.py --shapes default --reps 3

Every (implementation, shape) pair runs in a fresh child process so that peak memory is clean: the child builds
the inputs, runs one warm-up step (which also compiles, for the torch.compile peers), resets the kernel's
resident-set high-water mark (``/proc/self/clear_refs``), runs forward+backward once more and reports the peak
resident memory above the pre-step baseline. glibc is told to serve every allocation above 64 KiB with mmap
(``MALLOC_MMAP_THRESHOLD_``), so freed buffers leave the process and do not hide later peaks. Times are medians
over ``--reps`` steps. The "floor" is the memory of the gradients dE and dC themselves.

Inputs: random normal hidden states and a random normal classifier scaled so the logits have a standard deviation
of 2 over the vocabulary, plus a Zipf-like per-token offset (log of 1/rank) along a shared direction, as in a
trained LM whose classifier encodes unigram frequency. Pure random-normal logits are far more peaked than a real
model's and overstate filtering; this is the distribution the table was measured on (stated in the output).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

SHAPES = {
    "small": dict(n=1024, d=512, v=32768),  # the default shape with N / 4, for busy machines
    "default": dict(n=4096, d=512, v=32768),
    "large_vocab": dict(n=512, d=1024, v=256000),
    "gemma2_2b": dict(n=8192, d=2304, v=256000),  # the CCE paper's Table 1 shape (GPU only)
}
GPU_IMPLS = [
    "lamina_triton",
    "lamina_triton_exact",
    "cce_cce",
    "cce_cce_kahan_full_c",
    "liger",
    "torch_eager",
    "torch_compile",
    "torch_native_chunk1024",
]
CPU_IMPLS = [
    "lamina_chunked",
    "torch_eager",
    "torch_compile",
    "torch_native_chunk512",
    "torch_native_chunk4096",
    "cce_torch_compile",
]
LOGIT_STD = 2.0


def make_inputs(n: int, d: int, v: int, dtype, device, seed: int = 0):
    import torch

    gen = torch.Generator(device="cpu").manual_seed(seed)
    e = torch.randn(n, d, generator=gen)
    c = torch.randn(v, d, generator=gen) * (LOGIT_STD / d**0.5)
    direction = torch.randn(d, generator=gen)
    direction /= direction.norm()
    rank = torch.arange(1, v + 1, dtype=torch.float32)
    c += torch.log(1.0 / rank)[torch.randperm(v, generator=gen)][:, None] * direction[None, :] * 0.5
    e += direction[None, :] * 2.0
    targets = torch.empty(n, dtype=torch.long)
    for start in range(0, n, 256):  # targets drawn from the model's own softmax, as for a well-trained LM
        probs = torch.softmax(e[start : start + 256] @ c.T, dim=-1)
        targets[start : start + 256] = torch.multinomial(probs, 1, generator=gen).squeeze(1)
    e = e.to(device=device, dtype=dtype).requires_grad_(True)
    c = c.to(device=device, dtype=dtype).requires_grad_(True)
    return e, c, targets.to(device)


def loss_fn(impl: str):
    """The loss of one implementation as ``fn(e, c, targets) -> scalar``."""
    import torch
    import torch.nn.functional as F

    if impl == "lamina_chunked":
        from lamina_kernels import linear_cross_entropy

        return lambda e, c, t: linear_cross_entropy(e, c, t, impl="chunked")
    if impl.startswith("lamina_triton"):
        from lamina_kernels import linear_cross_entropy

        eps = None if impl.endswith("exact") else "auto"
        return lambda e, c, t: linear_cross_entropy(e, c, t, impl="triton", filter_eps=eps)
    if impl == "torch_eager":
        return lambda e, c, t: F.cross_entropy((e @ c.T).float(), t)
    if impl == "torch_compile":
        return torch.compile(lambda e, c, t: F.cross_entropy((e @ c.T).float(), t))
    if impl.startswith("torch_native_chunk"):
        chunk = int(impl.removeprefix("torch_native_chunk"))
        opts = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=chunk)
        return lambda e, c, t: F.linear_cross_entropy(e, c, t, options=opts)
    if impl.startswith("cce_"):
        from cut_cross_entropy import linear_cross_entropy as cce

        return lambda e, c, t: cce(e, c, t, impl=impl.removeprefix("cce_"))
    if impl == "liger":
        from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss

        loss = LigerFusedLinearCrossEntropyLoss()
        return lambda e, c, t: loss(c, e, t)
    raise ValueError(f"unknown implementation {impl!r}")


def resident_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def worker(impl: str, shape: str, dtype_name: str, device: str, reps: int) -> dict:
    """Runs in the child process: time forward (no grad) and forward+backward, and the peak memory of one step."""
    import gc

    import torch

    dims = SHAPES[shape]
    dtype = getattr(torch, dtype_name)
    e, c, t = make_inputs(dims["n"], dims["d"], dims["v"], dtype, device)
    fn = loss_fn(impl)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step() -> float:
        e.grad = c.grad = None
        loss = fn(e, c, t)
        loss.backward()
        return float(loss)

    loss_value = step()  # warm-up (and compilation)
    with torch.no_grad():
        fn(e, c, t)
    fwd, fwd_bwd = [], []
    for _ in range(reps):
        sync()
        start = time.perf_counter()
        with torch.no_grad():
            fn(e, c, t)
        sync()
        fwd.append(time.perf_counter() - start)
        start = time.perf_counter()
        step()
        sync()
        fwd_bwd.append(time.perf_counter() - start)
    e.grad = c.grad = None
    gc.collect()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        Path("/proc/self/clear_refs").write_text("5")
        base = resident_kib("VmRSS") * 1024
        step()
        peak = resident_kib("VmHWM") * 1024 - base
    return dict(
        impl=impl,
        shape=shape,
        fwd_ms=1000 * sorted(fwd)[len(fwd) // 2],
        fwd_bwd_ms=1000 * sorted(fwd_bwd)[len(fwd_bwd) // 2],
        peak_mb=peak / 2**20,
        loss=loss_value,
    )


def run_child(impl: str, shape: str, dtype: str, device: str, reps: int, threads: int) -> dict:
    env = dict(
        os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0", OMP_NUM_THREADS=str(threads)
    )
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        impl,
        "--shapes",
        shape,
        "--dtype",
        dtype,
        "--device",
        device,
    ]
    cmd += ["--reps", str(reps), "--threads", str(threads)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return dict(impl=impl, shape=shape, error=(proc.stderr.strip().splitlines() or ["?"])[-1][:160])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def versions() -> str:
    import importlib.metadata as md

    parts = []
    for dist in ("torch", "triton", "cut-cross-entropy", "liger-kernel"):
        with contextlib.suppress(md.PackageNotFoundError):
            parts.append(f"{dist} {md.version(dist)}")
    return ", ".join(parts)


def machine(device: str, threads: int) -> str:
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name()
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {threads} threads (shared machine)"


def markdown(results: list[dict], args: argparse.Namespace) -> str:
    lines = [
        f"## {args.device.upper()} benchmark ({args.dtype})",
        "",
        f"Measured with `python scripts/bench_cce.py --device {args.device} --dtype {args.dtype} "
        f"--shapes {args.shapes} --reps {args.reps}` on {machine(args.device, args.threads)}; {versions()}.",
        f"Inputs: random normal, classifier scaled to a logit standard deviation of {LOGIT_STD} plus a Zipf "
        "(log 1/rank) offset along a shared direction; targets sampled from the softmax itself (as for a well-trained LM); `reduction=mean`.",
        "Forward is timed under `torch.no_grad()`; forward+backward is one training step of the loss (median of "
        f"{args.reps}); memory is the peak above the pre-step baseline (CPU: resident set, fresh process; CUDA: "
        "allocator) and includes the gradients themselves; the floor is dE + dC.",
        "",
    ]
    for shape in [s for s in SHAPES if s in args.shape_list]:
        dims = SHAPES[shape]
        elem = 2 if args.dtype in ("bfloat16", "float16") else 4
        floor = (dims["n"] + dims["v"]) * dims["d"] * elem / 2**20
        rows = [r for r in results if r["shape"] == shape]
        ok = [r for r in rows if "error" not in r]
        peers = [r for r in ok if not r["impl"].startswith("lamina")]
        fastest = min((r["fwd_bwd_ms"] for r in peers), default=None)
        leanest = min((r["peak_mb"] for r in peers), default=None)
        lines += [
            f"### N={dims['n']}, D={dims['d']}, V={dims['v']}  (floor dE+dC = {floor:.1f} MiB)",
            "",
            "| implementation | forward ms | fwd+bwd ms | peak MiB | peak / floor | fwd+bwd / fastest peer | loss |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            if "error" in r:
                lines.append(f"| {r['impl']} | failed: {r['error']} | | | | | |")
                continue
            speed = f"{r['fwd_bwd_ms'] / fastest:.2f}" if fastest else "-"
            lines.append(
                f"| {r['impl']} | {r['fwd_ms']:.0f} | {r['fwd_bwd_ms']:.0f} | {r['peak_mb']:.0f} | "
                f"{r['peak_mb'] / floor:.2f} | {speed} | {r['loss']:.4f} |"
            )
        if fastest and leanest:
            lines += ["", f"Fastest peer: {fastest:.0f} ms; leanest peer: {leanest:.0f} MiB.", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--shapes", default="all", help="comma list of " + ", ".join(SHAPES) + ", or all")
    parser.add_argument("--impls", default=None, help="comma list (default: every CPU implementation)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parents[1] / "kernels" / "BENCHMARKS.md")
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    issue_shapes = ["gemma2_2b"] if args.device == "cuda" else ["default", "large_vocab"]
    args.shape_list = issue_shapes if args.shapes == "all" else args.shapes.split(",")
    if args.worker:
        import torch

        torch.set_num_threads(args.threads)
        print(json.dumps(worker(args.worker, args.shape_list[0], args.dtype, args.device, args.reps)))
        return
    impls = args.impls.split(",") if args.impls else (GPU_IMPLS if args.device == "cuda" else CPU_IMPLS)
    results = []
    for shape in args.shape_list:
        for impl in impls:
            result = run_child(impl, shape, args.dtype, args.device, args.reps, args.threads)
            print(json.dumps(result), flush=True)
            results.append(result)
    text = markdown(results, args)
    out = Path(args.out)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(text)


if __name__ == "__main__":
    main()
