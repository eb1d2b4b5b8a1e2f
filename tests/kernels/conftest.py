"""Shared fixtures for the kernel tests: every buffer a kernel must overwrite starts as NaN."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def poison_uninitialised_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMINA_KERNELS_POISON", "1")
