"""Runs the Triton kernel checks (``triton_interpret_cases.py``) under Triton's CPU interpreter in a fresh process.

``TRITON_INTERPRET=1`` must be in the environment before Triton is first imported (Triton decorates its own
language functions at import), and in a full test session torch or Lightning has imported Triton long before any
kernel test runs; a child process is the only reliable way to get an interpreted Triton.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("triton")

CASES = Path(__file__).with_name("triton_interpret_cases.py")


@pytest.mark.slow
def test_triton_kernels_under_the_interpreter() -> None:
    env = dict(os.environ, TRITON_INTERPRET="1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CASES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"Triton interpreter checks failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
    )
    assert " passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-2000:]
