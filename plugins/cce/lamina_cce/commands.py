"""``lamina cce ...``: the paper's measurements that are not a single training run."""

from __future__ import annotations

import click


@click.group(help="Cut Cross-Entropy (arXiv:2411.09009): memory, ablation and convergence measurements.")
def cce() -> None:
    pass
