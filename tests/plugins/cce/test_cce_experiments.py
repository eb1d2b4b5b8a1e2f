"""The measurement code behind `lamina cce memory|ablation|convergence`, on shapes small enough for CI."""

from __future__ import annotations

import pytest
import torch

from lamina_cce.ablation import tile_skip_fraction
from lamina_cce.convergence import max_gap, plot_curves
from lamina_cce.memory import MemoryCase, measure, memory_table
from lamina_cce.report import markdown_table, write_table


def test_tile_skip_fraction_sees_what_sorting_gathers() -> None:
    p = torch.zeros(128, 384)
    p[:, [5, 200, 300]] = 0.3  # three hot vocabulary entries, one in each 128-wide tile
    assert tile_skip_fraction(p, 1e-3) == 0.0
    assert tile_skip_fraction(p, 1e-3, sort_vocab=True) == pytest.approx(
        2 / 3
    )  # sorted: all in the last tile
    assert tile_skip_fraction(torch.full((4, 4), 0.5), 1e-3) == 0.0


def test_max_gap_compares_shared_steps() -> None:
    assert max_gap([(0, 2.0), (5, 1.0)], [(0, 2.5), (5, 1.1), (9, 0.0)]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no logged step"):
        max_gap([(1, 1.0)], [(2, 1.0)])


def test_tables_and_plot_are_written(tmp_path) -> None:
    rows = [{"impl": "cce", "peak MiB": 1.5}, {"impl": "torch", "peak MiB": 30.0}]
    path = write_table(rows, tmp_path / "t.md", header="Measured here.")
    assert path.read_text() == "Measured here.\n\n" + markdown_table(rows)
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "impl,peak MiB"
    assert plot_curves({"a": [(0, 1.0), (1, 0.5)]}, tmp_path / "c.png").stat().st_size > 1000


@pytest.mark.slow
def test_cce_needs_less_loss_memory_than_full_logits() -> None:
    # 512 x 16384 fp32 logits = 32 MiB; the baseline holds them and their gradient, CCE only small chunks.
    results = [
        measure(MemoryCase("loss", impl, vocab=16384, tokens=512, hidden=32)) for impl in ("torch", "cce")
    ]
    rows = {r["impl"]: r for r in memory_table(results)}
    assert rows["torch"]["peak MiB"] > 32
    assert rows["cce"]["x baseline"] < 0.6
