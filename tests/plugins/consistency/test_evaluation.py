"""Paired evaluation (identical noise for teacher and students), metrics, students' sampling and LoRA."""

import numpy as np
import pytest
import torch

from lamina_consistency.data.mixtures import make_mixture
from lamina_consistency.evaluation import MixtureQuality, draw_paired_noise, evaluate_paired, ode_error
from lamina_consistency.metrics.images import frechet_distance, precision_recall
from lamina_consistency.metrics.two_d import mmd_squared, sliced_wasserstein
from lamina_consistency.students import ConsistencyDistillation, DirectConsistencyModel, regression_loss
from lamina_consistency.teacher import DiffusionTeacher, load_teacher, save_teacher


@pytest.fixture(scope="module")
def teacher() -> DiffusionTeacher:
    torch.manual_seed(0)
    return DiffusionTeacher(data_shape=[2], width=32, depth=1, sample_ode_steps=10).eval()


class RecordingStudent:
    """Stands in for a student and remembers exactly what noise it was given."""

    def __init__(self, offset: float) -> None:
        self.offset = offset
        self.calls = []

    def sample(self, noise, labels, steps, renoise=None):
        self.calls.append((noise, renoise, steps))
        return noise[:, :2] * 0 + self.offset


def test_every_model_sees_identical_noise(teacher):
    paired = draw_paired_noise(64, [2], 0, 4, seed=3)
    students = {"a": RecordingStudent(0.0), "b": RecordingStudent(1.0)}
    rows, samples = evaluate_paired(
        teacher,
        students,
        paired,
        MixtureQuality(make_mixture("ring8"), 64),
        sampling_steps=(1, 2, 4),
        ode_steps=10,
    )
    for student in students.values():
        assert [steps for _, _, steps in student.calls] == [1, 2, 4]
        for noise, renoise, _ in student.calls:
            assert noise is paired.noise and renoise is paired.renoise
    teacher_samples = samples["teacher@10"]
    torch.testing.assert_close(teacher_samples, teacher.sample(paired.noise, None, 10))
    by_model = {(row["model"], row["steps"]): row for row in rows}
    assert by_model[("a", 1)]["ode_error"] == pytest.approx(float(teacher_samples.double().pow(2).mean()))
    assert by_model[("teacher", 10)]["ode_error"] == 0.0


def test_paired_noise_is_reproducible_and_seed_dependent():
    first, again, other = (draw_paired_noise(8, [1, 4, 4], 5, 4, seed=s) for s in (1, 1, 2))
    torch.testing.assert_close(first.noise, again.noise)
    torch.testing.assert_close(first.renoise[2], again.renoise[2])
    torch.testing.assert_close(first.labels, again.labels)
    assert not torch.equal(first.noise, other.noise)
    assert len(first.renoise) == 3 and first.labels.max() < 5


def test_identical_students_score_identically_on_paired_noise(teacher):
    a = ConsistencyDistillation(teacher=teacher, num_ode_steps=10)
    b = DirectConsistencyModel(teacher=teacher, num_ode_steps=10)
    b.student.load_state_dict(a.student.state_dict())
    paired = draw_paired_noise(128, [2], 0, 4, seed=0)
    rows, _ = evaluate_paired(
        teacher, {"cd": a, "direct": b}, paired, MixtureQuality(make_mixture("ring8"), 128), ode_steps=10
    )
    cd = [r for r in rows if r["model"] == "cd"]
    direct = [r for r in rows if r["model"] == "direct"]
    for x, y in zip(cd, direct, strict=True):
        assert {k: v for k, v in x.items() if k != "model"} == {k: v for k, v in y.items() if k != "model"}


def test_students_start_as_the_teacher_and_one_step_is_its_x0_prediction(teacher):
    student = ConsistencyDistillation(teacher=teacher, num_ode_steps=10)
    for ours, theirs in zip(student.student.parameters(), teacher.sampling_net().parameters(), strict=True):
        torch.testing.assert_close(ours, theirs)
    noise = torch.randn(16, 2)
    grid = teacher.grid(10)
    t = grid.timesteps[-1].expand(16)
    eps = teacher.sampling_net()(noise, t.float(), None)
    a = float(grid.alpha_bars[-1])
    expected_x0 = (noise - (1 - a) ** 0.5 * eps) / a**0.5
    sample = student.sample(noise, None, 1)
    assert (sample - expected_x0).abs().max() < 1e-3 * expected_x0.abs().max()  # c_skip(999) ~ 0


def test_lora_student_trains_only_adapters(teacher):
    student = DirectConsistencyModel(teacher=teacher, num_ode_steps=10, finetune="lora", lora_rank=2)
    names = [name for name, p in student.student.named_parameters() if p.requires_grad]
    assert names and all("lora_" in name for name in names)
    before = {name: p.detach().clone() for name, p in student.student.named_parameters()}
    optimizer = student.configure_optimizers()
    loss, evaluations = student.distillation_loss(torch.randn(32, 2), torch.zeros(32, dtype=torch.long))
    loss.backward()
    optimizer.step()
    assert evaluations > 0
    changed = [n for n, p in student.student.named_parameters() if not torch.equal(p, before[n])]
    assert changed and all("lora_" in name for name in changed)


def test_teacher_checkpoint_round_trip(teacher, tmp_path):
    path = save_teacher(teacher, tmp_path / "t.pt")
    loaded = load_teacher(path)
    noise = torch.randn(8, 2)
    torch.testing.assert_close(loaded.sample(noise, None, 10), teacher.sample(noise, None, 10))
    assert not list(tmp_path.glob("*.tmp"))


def test_cfg_is_imagen_form():
    torch.manual_seed(0)
    conditional = DiffusionTeacher(data_shape=[2], width=16, depth=1, num_classes=3, guidance_scale=4.0)
    x, t, y = torch.randn(5, 2), torch.full((5,), 500.0), torch.tensor([0, 1, 2, 0, 1])
    net = conditional.sampling_net()
    eps_c, eps_u = net(x, t, y), net(x, t, torch.full_like(y, 3))
    torch.testing.assert_close(conditional.guided_eps(x, t, y), eps_u + 4.0 * (eps_c - eps_u))
    torch.testing.assert_close(conditional.guided_eps(x, t, y, guidance_scale=1.0), eps_c)
    assert conditional.evaluations_per_call(y) == 2 and conditional.evaluations_per_call(y, 1.0) == 1


def test_two_d_metrics_separate_good_from_bad_samples():
    mixture = make_mixture("ring8")
    generator = torch.Generator().manual_seed(0)
    reference, good = mixture.sample(1000, generator), mixture.sample(1000, generator)
    bad = torch.randn(1000, 2, generator=generator, dtype=torch.float64) * 0.3  # mass between the modes
    assert mmd_squared(good, reference) < 0.1 * mmd_squared(bad, reference)
    assert sliced_wasserstein(good, reference) < 0.5 * sliced_wasserstein(bad, reference)
    assert mixture.log_prob(good).mean() > mixture.log_prob(bad).mean() + 1.0
    with pytest.raises(ValueError, match="equal sample counts"):
        sliced_wasserstein(good[:10], reference)


def test_mixture_log_prob_is_a_normalised_density():
    mixture = make_mixture("ring8")
    axis = torch.linspace(-2, 2, 401, dtype=torch.float64)
    points = torch.cartesian_prod(axis, axis)
    mass = mixture.log_prob(points).exp().sum() * (axis[1] - axis[0]) ** 2
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_frechet_distance_and_precision_recall():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 4)), rng.normal(size=(500, 4))
    shifted = b + np.array([3.0, 0, 0, 0])
    assert frechet_distance(a, b) < 0.2
    assert frechet_distance(a, shifted) == pytest.approx(9.0, rel=0.1)
    precision, recall = precision_recall(a, b)
    assert precision > 0.8 and recall > 0.8
    collapsed = np.zeros((500, 4)) + rng.normal(size=(500, 4)) * 0.01  # mode collapse: precise, no recall
    precision, recall = precision_recall(a, collapsed)
    assert precision > 0.9 and recall < 0.2


def test_regression_losses():
    prediction, target = torch.zeros(4, 3), torch.ones(4, 3)
    assert regression_loss(prediction, target) == pytest.approx(1.0)
    c = 0.5
    assert regression_loss(prediction, target, "pseudo_huber", c) == pytest.approx((3 + c**2) ** 0.5 - c)
    with pytest.raises(ValueError, match="choose one of"):
        regression_loss(prediction, target, "l1")


def test_ode_error_is_mean_squared_difference():
    assert ode_error(torch.zeros(2, 3), torch.full((2, 3), 2.0)) == pytest.approx(4.0)
