"""Lamina hooks for LLaMA-Mesh. Imports nothing heavy: components are registered as dotted paths."""

from __future__ import annotations

PAPER = "LLaMA-Mesh (arXiv:2411.09595)"
