"""Fused linear cross-entropy (Cut Cross-Entropy) for PyTorch: the loss of ``e @ c.T`` without the logits.

Stand-alone: this package imports neither ``lamina`` nor any plugin, and Triton only when ``impl="triton"`` runs.

    from lamina_kernels import linear_cross_entropy
    loss = linear_cross_entropy(hidden_states, lm_head.weight, labels, shift=1)
"""


def _load_the_installed_package_named_like_this_folder() -> None:
    """Stand aside for Hugging Face's ``kernels`` when this source folder is imported under that name.

    This folder installs as ``lamina_kernels``, but with the repository root on ``sys.path`` (``python -m ...`` or
    ``torchrun -m ...`` started there, or Lightning's DDP re-launch of such a command) Python also finds it as the
    top-level package ``kernels``, the name of a transformers dependency: ``import transformers`` would then fail
    with "cannot import name ... from 'kernels'". Load the installed package from the rest of the path and put it
    in ``sys.modules``, which is what the import statement returns.
    """
    import importlib.machinery
    import importlib.util
    import sys
    from pathlib import Path

    source_root = Path(__file__).resolve().parent.parent
    rest_of_path = [entry for entry in sys.path if Path(entry or ".").resolve() != source_root]
    spec = importlib.machinery.PathFinder.find_spec(__name__, rest_of_path)
    if spec is None or spec.loader is None:
        raise ImportError(
            f"No module named {__name__!r} is installed; {Path(__file__).parent} is the source of "
            "'lamina_kernels': import it under that name.",
            name=__name__,
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[__name__] = module
    spec.loader.exec_module(module)


if __name__ != "lamina_kernels":
    _load_the_installed_package_named_like_this_folder()
else:
    from lamina_kernels.api import LinearCrossEntropy, linear_cross_entropy, triton_available
    from lamina_kernels.filter_stats import FilterStats, filter_statistics

__all__ = [
    "FilterStats",
    "LinearCrossEntropy",
    "filter_statistics",
    "linear_cross_entropy",
    "triton_available",
]
