"""The source folder ``kernels/`` must not hide Hugging Face's ``kernels`` package (a transformers dependency)
when Python runs from the repository root, as ``python -m lamina.train``, ``torchrun -m ...`` and Lightning's DDP
re-launch do."""

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_from_repo_root(code: str) -> subprocess.CompletedProcess:
    # `python -c` puts the working directory first on sys.path, exactly like `python -m` does.
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def test_transformers_imports_from_the_repository_root():
    try:
        installed = Path(distribution("kernels").locate_file("kernels"))
    except PackageNotFoundError:
        pytest.skip("Hugging Face's kernels package is not installed")
    result = run_from_repo_root(
        "import kernels, lamina_kernels, transformers.activations\n"
        "print(kernels.__file__); print(lamina_kernels.linear_cross_entropy.__module__)"
    )
    assert result.returncode == 0, result.stderr
    kernels_file, lamina_module = result.stdout.split()
    assert Path(kernels_file).resolve().parent == installed.resolve()
    assert lamina_module == "lamina_kernels.api"


def test_a_missing_package_of_that_name_is_a_clear_import_error(tmp_path):
    # Without the installed package on the path, `import kernels` from the root names the right import.
    code = (
        "import sys\n"
        "sys.path[:] = [p for p in sys.path if 'site-packages' not in p]\n"
        "try:\n    import kernels\nexcept ImportError as exc:\n    print('ImportError:', exc)\n"
    )
    result = run_from_repo_root(code)
    assert "is the source of 'lamina_kernels'" in result.stdout, result.stdout + result.stderr
