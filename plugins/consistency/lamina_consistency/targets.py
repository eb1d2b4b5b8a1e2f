"""The two regression targets that distinguish the students (section 3 of the paper).

Both start from a noisy training point ``x_{t_{n+1}} = sqrt(a) x0 + sqrt(1-a) noise`` at grid index n+1:

- **Consistency distillation**: one teacher solver step to ``t_n``, then the student's own output there under
  stop-gradient, ``f_target(solver_step(x_{t_{n+1}}), t_n)``. The target is only as good as the student is, so
  the error it can remove is the local one-step inconsistency.
- **Direct consistency model**: the teacher's full ODE solution from ``t_{n+1}`` to the clean end. The student
  regresses straight onto the answer of the ODE it should solve.

Both functions are pure (no gradients) and return the target and the number of teacher network evaluations
summed over the batch, which is how the equal-budget comparisons are accounted.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lamina_consistency.schedule import ODEGrid
from lamina_consistency.solvers import EpsFn, solve_ode, solver_step

ConsistencyFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]
"""``f(x, timesteps, alpha_bars, labels)``: a consistency function with its boundary condition applied."""


def noisy_training_point(
    x0: torch.Tensor, noise: torch.Tensor, grid: ODEGrid, index: torch.Tensor
) -> torch.Tensor:
    """``sqrt(a) x0 + sqrt(1 - a) noise`` at grid index ``index`` (per sample)."""
    a = grid.alpha_bars.to(x0.device)[index].to(x0.dtype).view(-1, *([1] * (x0.ndim - 1)))
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


@torch.no_grad()
def consistency_distillation_target(
    teacher_eps: EpsFn,
    target_fn: ConsistencyFn,
    x_noisy: torch.Tensor,
    labels: torch.Tensor | None,
    grid: ODEGrid,
    index: torch.Tensor,
    solver: str = "ddim",
) -> tuple[torch.Tensor, int]:
    """CD target at per-sample grid ``index`` (>= 1): the target network's output after one teacher step."""
    if bool((index < 1).any()):
        raise ValueError("consistency targets need grid index >= 1 (index 0 is the clean end)")
    timesteps, alpha_bars = grid.timesteps.to(x_noisy.device), grid.alpha_bars.to(x_noisy.device)
    previous = index - 1
    x_previous, evaluations = solver_step(
        teacher_eps,
        solver,
        x_noisy,
        labels,
        timesteps[index],
        timesteps[previous],
        alpha_bars[index],
        alpha_bars[previous],
    )
    target = target_fn(x_previous, timesteps[previous], alpha_bars[previous], labels)
    return target, evaluations * x_noisy.shape[0]


@torch.no_grad()
def direct_target(
    teacher_eps: EpsFn,
    x_noisy: torch.Tensor,
    labels: torch.Tensor | None,
    grid: ODEGrid,
    index: torch.Tensor,
    solver: str = "ddim",
) -> tuple[torch.Tensor, int]:
    """Direct CM target: the teacher's ODE solution from per-sample grid ``index`` to the clean end."""
    if bool((index < 1).any()):
        raise ValueError("consistency targets need grid index >= 1 (index 0 is the clean end)")
    return solve_ode(teacher_eps, x_noisy, labels, grid, index.to(x_noisy.device), 0, solver)
