"""Benchmark of fused linear cross-entropy implementations; writes a markdown table (default kernels/BENCHMARKS.md).

    python scripts/bench_cce.py                      # CPU: default shape + large vocabulary
    python scripts/bench_cce.py --shapes default --reps 3

Memory: every (implementation, shape) pair runs in a fresh child process, so that peak memory is clean: the child
builds the inputs, runs one warm-up step (which also compiles, for the torch.compile peers), resets the kernel's
resident-set high-water mark (``/proc/self/clear_refs``), runs forward+backward once more and reports the peak
resident memory above the pre-step baseline. glibc is told to serve every allocation above 64 KiB with mmap
(``MALLOC_MMAP_THRESHOLD_``), so freed buffers leave the process and do not hide later peaks. The "floor" is the
memory of the gradients dE and dC themselves.

Time: one child process per shape warms every implementation up, then runs ``--reps`` rounds, each timing every
implementation once in a rotated order; medians are reported. Interleaving keeps the ratios honest on a machine
whose load drifts during the run, which sequential runs in separate processes do not.

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
import statistics
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


def make_step(impl: str, e, c, t):
    """``step() -> loss``: one forward+backward of ``impl`` on the given inputs, gradients reset first."""
    fn = loss_fn(impl)

    def step() -> float:
        e.grad = c.grad = None
        loss = fn(e, c, t)
        loss.backward()
        return float(loss)

    return fn, step


def memory_worker(impl: str, shape: str, dtype_name: str, device: str) -> dict:
    """Runs in a fresh child process: the peak memory of one forward+backward, after a warm-up step."""
    import gc

    import torch

    dims = SHAPES[shape]
    e, c, t = make_inputs(dims["n"], dims["d"], dims["v"], getattr(torch, dtype_name), device)
    _, step = make_step(impl, e, c, t)
    loss_value = step()  # warm-up (and compilation)
    e.grad = c.grad = None
    gc.collect()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        Path("/proc/self/clear_refs").write_text("5")
        base = resident_kib("VmRSS") * 1024
        step()
        peak = resident_kib("VmHWM") * 1024 - base
    return dict(impl=impl, shape=shape, peak_mb=peak / 2**20, loss=loss_value)


def timing_worker(impls: list[str], shape: str, dtype_name: str, device: str, reps: int) -> list[dict]:
    """Runs in one child process for all implementations: ``reps`` rounds, each timing every implementation once
    (forward under ``no_grad``, then forward+backward), the order rotated every round. Interleaving makes the
    ratios robust to load that drifts during the run (a shared machine); the medians are reported."""
    import torch

    dims = SHAPES[shape]
    e, c, t = make_inputs(dims["n"], dims["d"], dims["v"], getattr(torch, dtype_name), device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    steps, errors = {}, {}
    for impl in impls:
        try:
            fn, step = make_step(impl, e, c, t)
            step()  # warm-up (and compilation)
            with torch.no_grad():
                fn(e, c, t)
            steps[impl] = (fn, step)
        except Exception as exc:  # a peer that is not installed or fails: report it, time the others
            errors[impl] = f"{type(exc).__name__}: {exc}"[:160]
    fwd: dict[str, list[float]] = {impl: [] for impl in steps}
    fwd_bwd: dict[str, list[float]] = {impl: [] for impl in steps}
    order = list(steps)
    for round_index in range(reps):
        shift = round_index % max(len(order), 1)
        for impl in order[shift:] + order[:shift]:
            fn, step = steps[impl]
            sync()
            start = time.perf_counter()
            with torch.no_grad():
                fn(e, c, t)
            sync()
            fwd[impl].append(time.perf_counter() - start)
            start = time.perf_counter()
            step()
            sync()
            fwd_bwd[impl].append(time.perf_counter() - start)
    rows = []
    for impl in impls:
        if impl in errors:
            rows.append(dict(impl=impl, shape=shape, error=errors[impl]))
            continue
        rows.append(
            dict(
                impl=impl,
                shape=shape,
                fwd_ms=1000 * statistics.median(fwd[impl]),
                fwd_bwd_ms=1000 * statistics.median(fwd_bwd[impl]),
            )
        )
    return rows


def run_child(args: list[str], threads: int) -> list[dict] | dict:
    env = dict(
        os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0", OMP_NUM_THREADS=str(threads)
    )
    cmd = [sys.executable, __file__, *args, "--threads", str(threads)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return dict(error=(proc.stderr.strip().splitlines() or ["?"])[-1][:160])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_shape(shape: str, impls: list[str], args: argparse.Namespace) -> list[dict]:
    """Memory of each implementation in its own fresh process, then all timings interleaved in one process."""
    common = ["--shapes", shape, "--dtype", args.dtype, "--device", args.device]
    memory = {}
    for impl in impls:
        result = run_child(["--memory-worker", impl, *common], args.threads)
        print(json.dumps({"memory": impl, **result}), flush=True)
        memory[impl] = result
    timing = run_child(["--timing-worker", ",".join(impls), "--reps", str(args.reps), *common], args.threads)
    if isinstance(timing, dict):  # the timing process itself failed
        timing = [dict(impl=impl, shape=shape, **timing) for impl in impls]
    rows = []
    for row in timing:
        mem = memory[row["impl"]]
        if "error" in mem and "error" not in row:
            row["error"] = mem["error"]
        row.update({k: v for k, v in mem.items() if k in ("peak_mb", "loss")})
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


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
        f"{args.reps} rounds, all implementations interleaved in one process); memory is the peak above the "
        "pre-step baseline (CPU: resident set, fresh process per implementation; CUDA: allocator) and includes the "
        "gradients themselves; the floor is dE + dC.",
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
    parser.add_argument("--memory-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--timing-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    issue_shapes = ["gemma2_2b"] if args.device == "cuda" else ["default", "large_vocab"]
    args.shape_list = issue_shapes if args.shapes == "all" else args.shapes.split(",")
    if args.memory_worker or args.timing_worker:
        import torch

        torch.set_num_threads(args.threads)
        shape = args.shape_list[0]
        if args.memory_worker:
            result = memory_worker(args.memory_worker, shape, args.dtype, args.device)
        else:
            result = timing_worker(args.timing_worker.split(","), shape, args.dtype, args.device, args.reps)
        print(json.dumps(result))
        return
    impls = args.impls.split(",") if args.impls else (GPU_IMPLS if args.device == "cuda" else CPU_IMPLS)
    results = []
    for shape in args.shape_list:
        results += measure_shape(shape, impls, args)
    text = markdown(results, args)
    out = Path(args.out)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(text)


if __name__ == "__main__":
    main()
