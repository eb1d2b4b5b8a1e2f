"""Each ODE solver against the closed-form flow of Gaussian data (and against a fine-grid Heun reference)."""

import math

import pytest
import torch

from lamina_consistency.analytic import GaussianDataTeacher
from lamina_consistency.schedule import ODEGrid
from lamina_consistency.solvers import SOLVERS, solve_ode


def geometric_grid(num_steps: int) -> ODEGrid:
    """sigma from 0.1 to 10 geometrically, plus the clean point; refining it halves every step."""
    return ODEGrid.from_sigmas(torch.cat([torch.zeros(1), torch.logspace(-1, 1, num_steps)]))


@pytest.fixture
def start_points() -> torch.Tensor:
    return 10.0 * torch.randn(512, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def rms(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b) ** 2).mean().sqrt().item()


@pytest.mark.parametrize(("solver", "order"), [("ddim", 1), ("euler", 1), ("heun", 2)])
def test_solver_converges_to_closed_form_at_its_order(solver, order, start_points):
    errors = []
    for num_steps in (20, 40, 80):
        grid = geometric_grid(num_steps)
        teacher = GaussianDataTeacher(grid, mean=0.3, std=0.5)
        exact = teacher.flow(start_points, num_steps, 1)
        solution, _ = solve_ode(teacher.eps, start_points, None, grid, num_steps, 1, solver)
        errors.append(rms(solution, exact))
    observed = [math.log2(coarse / fine) for coarse, fine in zip(errors, errors[1:], strict=False)]
    assert all(abs(rate - order) < 0.25 for rate in observed), (solver, errors, observed)
    assert errors[-1] < 0.1


@pytest.mark.parametrize("solver", SOLVERS)
def test_solver_on_paper_grid_matches_high_accuracy_reference(solver, start_points):
    """N=100 on the 1000-step DDPM schedule vs Heun on N=1000 (itself checked against the closed form)."""
    x = start_points / 10.0
    fine_grid = ODEGrid.from_ddpm(1000)
    fine_teacher = GaussianDataTeacher(fine_grid)
    reference, _ = solve_ode(fine_teacher.eps, x, None, fine_grid, 1000, 0, "heun")
    assert rms(reference, fine_teacher.flow(x, 1000, 0)) < 2e-3
    grid = ODEGrid.from_ddpm(100)
    solution, evaluations = solve_ode(GaussianDataTeacher(grid).eps, x, None, grid, 100, 0, solver)
    assert rms(solution, reference) < 0.02
    per_sample = {"ddim": 100, "euler": 100, "heun": 199}[solver]  # Heun's last step into sigma=0 is Euler
    assert evaluations == per_sample * len(x)


def test_mixed_start_indices_equal_separate_solves(start_points):
    grid = ODEGrid.from_ddpm(20)
    teacher = GaussianDataTeacher(grid)
    x = start_points[:6] / 10.0
    starts = torch.tensor([1, 5, 20, 7, 7, 13])
    batched, evaluations = solve_ode(teacher.eps, x, None, grid, starts, 0, "heun")
    for row, start in enumerate(starts.tolist()):
        single, _ = solve_ode(teacher.eps, x[row : row + 1], None, grid, start, 0, "heun")
        torch.testing.assert_close(batched[row : row + 1], single)
    assert evaluations == sum(2 * s - 1 for s in starts.tolist())


def test_unknown_solver_is_refused(start_points):
    grid = ODEGrid.from_ddpm(10)
    with pytest.raises(ValueError, match="choose one of"):
        solve_ode(GaussianDataTeacher(grid).eps, start_points, None, grid, 10, 0, "rk4")


def test_ddpm_grid_layout():
    grid = ODEGrid.from_ddpm(100)
    assert grid.timesteps[0] == 0 and grid.alpha_bars[0] == 1.0
    assert grid.timesteps[1] == 9 and grid.timesteps[-1] == 999
    assert bool((grid.alpha_bars[1:].diff() < 0).all())
    assert grid.subgrid_indices(4) == [100, 75, 50, 25]
    with pytest.raises(ValueError, match="must divide"):
        ODEGrid.from_ddpm(30)
