"""Work around the repository's top-level ``kernels/`` folder shadowing the pip package ``kernels``.

``python -m pytest`` from the repository root puts the root on ``sys.path``, so ``import kernels`` finds the
source folder of ``lamina_kernels`` instead of Hugging Face's ``kernels`` package, and transformers (imported by
peft for LoRA) fails with "cannot import name 'CUDAProperties' from 'kernels'". Importing the real package once,
with the root hidden, puts the right module in ``sys.modules``. (Reported to the core; remove once fixed there.)
"""

import importlib
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[3]


def _import_real_kernels_package() -> None:
    loaded = sys.modules.get("kernels")
    if (
        loaded is not None
        and Path(getattr(loaded, "__file__", "") or "").resolve().parent != _ROOT / "kernels"
    ):
        return
    saved = list(sys.path)
    try:
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT]
        sys.modules.pop("kernels", None)
        try:
            importlib.import_module("kernels")
        except ImportError:
            sys.modules.pop("kernels", None)
    finally:
        sys.path[:] = saved


_import_real_kernels_package()
