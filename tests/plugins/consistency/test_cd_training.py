"""CD's target network (itself or an EMA), the multistep sampler, and the comparison's training bookkeeping.

The first full comparison had CD students collapse on the image data (precision 0 at 2 and 4 steps): the CD
target and sampler were right (these tests pin them to their definitions), but at ``student_lr = 3e-4`` the
self-referential CD objective diverges within the budget; the comparison now records each student's loss
trajectory so that shows up in ``results.json``, and exposes LCM's EMA target as a knob.
"""

import pytest
import torch

from lamina_consistency.compare import ComparisonSettings, loss_trajectory, train_student
from lamina_consistency.students import ConsistencyDistillation, DirectConsistencyModel
from lamina_consistency.targets import noisy_training_point
from lamina_consistency.teacher import DiffusionTeacher


@pytest.fixture(scope="module")
def teacher() -> DiffusionTeacher:
    torch.manual_seed(0)
    return DiffusionTeacher(data_shape=[2], width=32, depth=1, sample_ode_steps=10).eval()


def _perturb(network: torch.nn.Module, amount: float) -> None:
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(amount)


def _training_point(student: ConsistencyDistillation) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of 16 noisy 2-D points at random grid levels 1..10, and their levels."""
    index = torch.randint(1, 11, (16,))
    return noisy_training_point(torch.randn(16, 2), torch.randn(16, 2), student.grid, index), index


def test_multistep_sampling_renoises_the_previous_sample_to_each_subgrid_level(teacher):
    student = ConsistencyDistillation(teacher=teacher, num_ode_steps=10)
    _perturb(student.student, 0.01)  # not the teacher any more, so nothing cancels by accident
    grid = student.grid
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(32, 2, generator=generator)
    renoise = [torch.randn(32, 2, generator=generator) for _ in range(3)]
    sample = student.sample(noise, None, 4, renoise=renoise)
    indices = grid.subgrid_indices(4)
    assert indices == [10, 8, 5, 2]  # evenly spaced, noisiest first (LCM), never the clean end
    x = noise
    expected = None
    for step, index in enumerate(indices):
        if step > 0:
            a = float(grid.alpha_bars[index])
            x = a**0.5 * expected + (1 - a) ** 0.5 * renoise[step - 1]  # fresh noise at the *next* level
        expected = student.consistency_fn(
            x, grid.timesteps[index].expand(32), grid.alpha_bars[index].expand(32), None
        )
    torch.testing.assert_close(sample, expected)


def test_cd_without_ema_targets_the_live_student(teacher):
    student = ConsistencyDistillation(teacher=teacher, num_ode_steps=10, target_ema_decay=0.0)
    assert student.target_net is None
    x_noisy, index = _training_point(student)
    before, _ = student.target(x_noisy, None, index)
    _perturb(student.student, 0.05)
    after, _ = student.target(x_noisy, None, index)
    assert not torch.allclose(before, after)  # the target moves with the student's weights


def test_cd_ema_target_lags_the_student_by_its_decay(teacher):
    student = ConsistencyDistillation(teacher=teacher, num_ode_steps=10, target_ema_decay=0.9)
    initial = [p.detach().clone() for p in student.target_net.parameters()]
    x_noisy, index = _training_point(student)
    before, _ = student.target(x_noisy, None, index)
    _perturb(student.student, 1.0)
    unchanged, _ = student.target(x_noisy, None, index)
    torch.testing.assert_close(before, unchanged)  # the target network is not the student
    student.on_train_batch_end(None, None, 0)
    for ema, start in zip(student.target_net.parameters(), initial, strict=True):
        torch.testing.assert_close(ema, start + 0.1)  # moved (1 - decay) of the way to the student
        assert not ema.requires_grad


def test_comparison_passes_the_cd_target_ema_and_records_the_loss(teacher):
    x = torch.randn(256, 2)
    labels = torch.zeros(256, dtype=torch.long)
    settings = ComparisonSettings(ode_steps=10, cd_target_ema=0.95)
    cd, info = train_student(ConsistencyDistillation, teacher, x, labels, 20, 16, 0, settings, lr=1e-4)
    assert cd.target_net is not None and cd.hparams.target_ema_decay == 0.95
    assert info["optimizer_steps"] == 20
    assert 0 < info["loss_first"] <= info["loss_peak"] and info["loss_last"] <= info["loss_peak"]
    direct, _ = train_student(DirectConsistencyModel, teacher, x, labels, 2, 16, 0, settings, lr=1e-4)
    assert "target_ema_decay" not in direct.hparams


def test_loss_trajectory_windows():
    losses = [1.0] * 10 + [5.0] * 10 + [2.0] * 80
    summary = loss_trajectory(losses)
    assert summary == {"loss_first": 1.0, "loss_last": 2.0, "loss_peak": 5.0}
    assert loss_trajectory([]) == {}
    assert loss_trajectory([3.0]) == {"loss_first": 3.0, "loss_last": 3.0, "loss_peak": 3.0}
