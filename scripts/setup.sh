#!/usr/bin/env bash
# Set up Lamina on a fresh machine (idempotent): a virtual environment in .venv with lamina, its kernels and every
# bundled plugin installed editable. `--test` also installs the test tools.
#   bash scripts/setup.sh          # then: .venv/bin/lamina train
#   bash scripts/setup.sh --test   # then: .venv/bin/python -m pytest
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[lamina] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

extras="all"
[ "${1:-}" = "--test" ] && extras="all,test"

packages=(-e ".[${extras}]")
for plugin in plugins/*/; do
  [ -f "${plugin}pyproject.toml" ] && packages+=(-e "${plugin}")
done

echo "[lamina] installing lamina[${extras}] and ${#packages[@]} packages in total (torch 2.13.0, CPU build where no GPU)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${packages[@]}"
echo "[lamina] ready: $(.venv/bin/lamina --version)"
