"""The CD and Direct CM targets and the boundary condition, on a teacher whose ODE solution is closed-form."""

import pytest
import torch
from torch import nn

from lamina_consistency.analytic import GaussianDataTeacher
from lamina_consistency.boundary import boundary_scalings, consistency_output
from lamina_consistency.schedule import ODEGrid
from lamina_consistency.solvers import ddim_step
from lamina_consistency.targets import consistency_distillation_target, direct_target, noisy_training_point

torch.set_default_dtype(torch.float32)


@pytest.fixture
def setting():
    grid = ODEGrid.from_ddpm(100)
    teacher = GaussianDataTeacher(grid, mean=0.3, std=0.5)
    generator = torch.Generator().manual_seed(1)
    x0 = 0.3 + 0.5 * torch.randn(256, 2, generator=generator, dtype=torch.float64)
    index = torch.randint(1, 101, (256,), generator=generator)
    x_noisy = noisy_training_point(
        x0, torch.randn(256, 2, generator=generator, dtype=torch.float64), grid, index
    )
    return grid, teacher, x_noisy, index


def exact_consistency_fn(teacher: GaussianDataTeacher):
    """The ideal consistency function of the Gaussian teacher: the exact flow to the clean end."""
    grid = teacher.grid

    def f(x, timesteps, alpha_bars, labels):
        index = torch.searchsorted(grid.timesteps, timesteps.double().contiguous())
        return teacher.flow(x, index, 0)

    return f


def test_direct_target_is_the_teachers_ode_solution(setting):
    grid, teacher, x_noisy, index = setting
    target, evaluations = direct_target(teacher.eps, x_noisy, None, grid, index, "heun")
    exact = teacher.flow(x_noisy, index, 0)
    assert ((target - exact) ** 2).mean().sqrt() < 5e-3
    assert evaluations == int((2 * index - 1).sum())  # Heun: 2 per step, 1 for the last step into sigma=0
    assert not target.requires_grad


def test_cd_target_is_target_network_after_one_teacher_step(setting):
    grid, teacher, x_noisy, index = setting
    calls = []

    def target_fn(x, timesteps, alpha_bars, labels):
        calls.append((timesteps.clone(), alpha_bars.clone()))
        return 2.0 * x + 1.0  # any function: the target is f applied at t_n to the one-step solution

    target, evaluations = consistency_distillation_target(teacher.eps, target_fn, x_noisy, None, grid, index)
    timesteps = grid.timesteps[index]
    one_step = ddim_step(
        teacher.eps(x_noisy, timesteps), x_noisy, grid.alpha_bars[index], grid.alpha_bars[index - 1]
    )
    torch.testing.assert_close(target, 2.0 * one_step + 1.0)
    torch.testing.assert_close(calls[0][0], grid.timesteps[index - 1])
    torch.testing.assert_close(calls[0][1], grid.alpha_bars[index - 1])
    assert evaluations == len(index)


def test_cd_target_with_ideal_student_matches_ode_solution_up_to_one_step(setting):
    """With the exact consistency function as target network, the CD target differs from the ODE solution only
    by the teacher's one-step error, which shrinks as the grid is refined; the Direct target has no such term."""
    _, _, x_noisy, _ = setting
    gaps = []
    for num_steps in (25, 100):
        grid = ODEGrid.from_ddpm(num_steps)
        teacher = GaussianDataTeacher(grid, mean=0.3, std=0.5)
        index = torch.full((len(x_noisy),), num_steps // 2)
        target, _ = consistency_distillation_target(
            teacher.eps, exact_consistency_fn(teacher), x_noisy, None, grid, index
        )
        gaps.append(((target - teacher.flow(x_noisy, index, 0)) ** 2).mean().sqrt().item())
    assert gaps[1] < gaps[0] / 2
    assert gaps[1] < 0.01


def test_cd_target_carries_no_gradient(setting):
    grid, teacher, x_noisy, index = setting
    weight = nn.Parameter(torch.tensor(1.5, dtype=torch.float64))
    target, _ = consistency_distillation_target(
        teacher.eps, lambda x, t, a, y: weight * x, x_noisy, None, grid, index
    )
    assert not target.requires_grad


def test_targets_refuse_the_clean_index(setting):
    grid, teacher, x_noisy, _ = setting
    with pytest.raises(ValueError, match="index >= 1"):
        direct_target(teacher.eps, x_noisy, None, grid, torch.zeros(len(x_noisy), dtype=torch.long))


def test_boundary_condition_holds_at_the_clean_end():
    c_skip, c_out = boundary_scalings(torch.tensor([0.0, 9.0, 999.0]))
    assert c_skip[0] == 1.0 and c_out[0] == 0.0
    torch.testing.assert_close(c_skip[1], torch.tensor(0.25 / (90.0**2 + 0.25), dtype=torch.float64))
    torch.testing.assert_close(c_out[1], torch.tensor(90.0 / (90.0**2 + 0.25) ** 0.5, dtype=torch.float64))
    x = torch.randn(4, 2)
    eps = torch.randn(4, 2)
    out = consistency_output(x, eps, torch.zeros(4), torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(out, x)
