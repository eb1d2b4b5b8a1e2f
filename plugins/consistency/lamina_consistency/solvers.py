"""Probability-flow ODE solvers for an epsilon-prediction teacher: DDIM, Euler and Heun.

All three integrate the same ODE between two grid points. Write ``a`` for alpha_bar, ``sigma = sqrt((1-a)/a)``
and ``x~ = x / sqrt(a)`` (the EDM-form state). The probability-flow ODE is then ``dx~/dsigma = eps(x, t)``.

- **DDIM** (the paper's default) is the exact update for a frozen epsilon: predict x0, re-noise to the target
  level with the same epsilon. In the rescaled variables this is precisely an Euler step on ``x~``.
- **Euler** is the textbook explicit Euler step on the *unscaled* state ``x``, whose ODE in sigma is
  ``dx/dsigma = sqrt(a) eps - sigma a x``. It is first order like DDIM but not the same method (it does not treat
  the linear term exactly), which is why the two are worth comparing.
- **Heun** is EDM's second-order step on ``x~``: an Euler (= DDIM) predictor then a trapezoidal corrector with a
  second network evaluation; the step into sigma = 0 falls back to the predictor, as in EDM.

Every function works per sample (``t_from`` etc. have shape (B,)), so a batch can mix starting points, which the
Direct CM target needs. Each returns the new state and the number of network evaluations per sample.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lamina_consistency.schedule import ODEGrid

EpsFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]
"""``eps_fn(x, timesteps, labels) -> eps``: the (guided) teacher's noise prediction."""

SOLVERS = ("ddim", "euler", "heun")


def _per_sample(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Reshape a (B,) tensor to broadcast against ``like`` (B, ...), in ``like``'s dtype."""
    return value.to(device=like.device, dtype=like.dtype).view(-1, *([1] * (like.ndim - 1)))


def predict_x0(x: torch.Tensor, eps: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """The clean sample implied by a noise prediction: ``(x - sqrt(1-a) eps) / sqrt(a)``."""
    a = _per_sample(alpha_bar, x)
    return (x - (1.0 - a).sqrt() * eps) / a.sqrt()


def ddim_step(eps: torch.Tensor, x: torch.Tensor, a_from: torch.Tensor, a_to: torch.Tensor) -> torch.Tensor:
    """Deterministic DDIM (eta = 0) update given the noise prediction at the starting point."""
    x0 = predict_x0(x, eps, a_from)
    a = _per_sample(a_to, x)
    return a.sqrt() * x0 + (1.0 - a).sqrt() * eps


def euler_step(eps: torch.Tensor, x: torch.Tensor, a_from: torch.Tensor, a_to: torch.Tensor) -> torch.Tensor:
    """Explicit Euler on ``dx/dsigma = sqrt(a) eps - sigma a x`` (unscaled state)."""
    a = _per_sample(a_from, x)
    sigma_from = ((1.0 - a) / a).sqrt()
    a_next = _per_sample(a_to, x)
    sigma_to = ((1.0 - a_next) / a_next).sqrt()
    return x + (sigma_to - sigma_from) * (a.sqrt() * eps - sigma_from * a * x)


def solver_step(
    eps_fn: EpsFn,
    solver: str,
    x: torch.Tensor,
    labels: torch.Tensor | None,
    t_from: torch.Tensor,
    t_to: torch.Tensor,
    a_from: torch.Tensor,
    a_to: torch.Tensor,
) -> tuple[torch.Tensor, int]:
    """One solver step from (t_from, a_from) to (t_to, a_to); returns (x_to, network evaluations per sample)."""
    eps = eps_fn(x, t_from.to(x.device, x.dtype), labels)
    if solver == "ddim":
        return ddim_step(eps, x, a_from, a_to), 1
    if solver == "euler":
        return euler_step(eps, x, a_from, a_to), 1
    if solver == "heun":
        predicted = ddim_step(eps, x, a_from, a_to)
        if bool((a_to >= 1.0).all()):  # stepping into sigma = 0: no corrector (EDM)
            return predicted, 1
        eps_next = eps_fn(predicted, t_to.to(x.device, x.dtype), labels)
        # Trapezoid on x~ = x / sqrt(a): x~_to = x~_from + (sigma_to - sigma_from) * (eps + eps_next) / 2.
        a_f, a_t = _per_sample(a_from, x), _per_sample(a_to, x)
        sigma_from, sigma_to = ((1 - a_f) / a_f).sqrt(), ((1 - a_t) / a_t).sqrt()
        x_tilde = x / a_f.sqrt() + (sigma_to - sigma_from) * 0.5 * (eps + eps_next)
        corrected = x_tilde * a_t.sqrt()
        # Samples that do land on sigma = 0 keep the predictor (the corrector's eps there is meaningless).
        clean = _per_sample((a_to >= 1.0).to(x.dtype), x)
        return clean * predicted + (1 - clean) * corrected, 2
    raise ValueError(f"unknown solver {solver!r}; choose one of {SOLVERS}")


@torch.no_grad()
def solve_ode(
    eps_fn: EpsFn,
    x: torch.Tensor,
    labels: torch.Tensor | None,
    grid: ODEGrid,
    start_index: int | torch.Tensor,
    end_index: int = 0,
    solver: str = "ddim",
) -> tuple[torch.Tensor, int]:
    """Integrate from grid index ``start_index`` (per sample, or one int) down to ``end_index``.

    Samples with different starting indices are advanced together: at grid index i only the samples that have
    reached it (start >= i) take a step, so the cost is the number of evaluations actually needed.
    Returns the solution and the total number of network evaluations summed over the batch.
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {SOLVERS}")
    batch = x.shape[0]
    start = (
        torch.as_tensor(start_index, device=x.device).long().expand(batch)
        if not torch.is_tensor(start_index) or start_index.ndim == 0
        else start_index.to(x.device).long()
    )
    x = x.clone()
    evaluations = 0
    for i in range(int(start.max()), end_index, -1):
        active = start >= i
        if not bool(active.any()):
            continue
        rows = active.nonzero(as_tuple=True)[0]
        count = len(rows)
        t_from = grid.timesteps[i].expand(count)
        t_to = grid.timesteps[i - 1].expand(count)
        a_from = grid.alpha_bars[i].expand(count)
        a_to = grid.alpha_bars[i - 1].expand(count)
        sub_labels = labels[rows] if labels is not None else None
        if count == batch:
            x, n_eval = solver_step(eps_fn, solver, x, sub_labels, t_from, t_to, a_from, a_to)
        else:
            x_rows, n_eval = solver_step(eps_fn, solver, x[rows], sub_labels, t_from, t_to, a_from, a_to)
            x[rows] = x_rows
        evaluations += n_eval * count
    return x, evaluations
