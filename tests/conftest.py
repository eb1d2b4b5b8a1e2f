"""Test-wide settings: quiet, offline trackers, small thread counts (the suite runs on 2 cores)."""

import os

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# The test folders are packages, so pytest puts the repository root at the front of sys.path (and `python -m
# pytest` adds the working directory). The root's `kernels/` folder (installed as `lamina_kernels`) would then
# hide the `kernels` distribution that transformers imports ("cannot import name 'CUDAProperties' from
# 'kernels'"). Import the real one first, with the root off the path, so every later `import kernels` gets it.
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

_REPO_ROOT = Path(__file__).resolve().parents[1]
_saved_path = list(sys.path)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _REPO_ROOT]
try:
    import kernels  # noqa: E402, F401  (Hugging Face's, a transformers dependency)
except ImportError:
    pass
finally:
    sys.path[:] = _saved_path
