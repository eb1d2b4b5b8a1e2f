"""Regression tests for bugs found in the first measured comparison (see the plugin README, "Measured here").

Each would have failed on the code that produced the broken table: the teacher's EMA kept random initial
weights, the denoisers could not output an epsilon that grows with |x|, and the image metric featurised the
teacher's reference samples unclamped but every scored sample clamped.
"""

import numpy as np
import pytest
import torch

from lamina_consistency.data.mixtures import make_mixture
from lamina_consistency.evaluation import ImageQuality, MixtureQuality, draw_paired_noise, evaluate_paired
from lamina_consistency.metrics.images import FeatureClassifier
from lamina_consistency.networks import build_denoiser
from lamina_consistency.teacher import DiffusionTeacher, ema_decay_at


def test_ema_forgets_the_random_initialisation():
    torch.manual_seed(0)
    teacher = DiffusionTeacher(data_shape=[2], width=16, depth=1, ema_decay=0.999)
    with torch.no_grad():
        for parameter in teacher.net.parameters():
            parameter.add_(1.0)  # "trained" weights, far from the initial ones the EMA starts at
    for _ in range(200):
        teacher.on_train_batch_end(None, None, 0)
    for ema, live in zip(teacher.ema_net.parameters(), teacher.net.parameters(), strict=True):
        # With a constant 0.999 from step 0, 0.999**200 = 82% of the init offset (1.0) would remain.
        assert (ema - live).abs().max() < 0.05
    assert int(teacher.ema_updates) == 200
    assert ema_decay_at(0.999, 0) == pytest.approx(0.1) and ema_decay_at(0.999, 10**6) == 0.999


@pytest.mark.parametrize(("network", "shape"), [("mlp", (2,)), ("conv_unet", (1, 8, 8))])
def test_denoiser_output_can_grow_with_its_input(network, shape):
    """The ideal epsilon at high noise is ~x; both networks end in a normalisation, so only the input-gain path
    lets them follow a tail sample of the initial noise (the cause of |x| > 100 teacher samples)."""
    torch.manual_seed(0)
    net = build_denoiser(network, shape, 16, 1, 0)
    x = torch.randn(4, *shape)
    t = torch.full((4,), 999.0)
    scale = 1000.0
    with torch.no_grad():
        bounded = net(scale * x, t) / scale  # gain 0 (its initial value): the output does not follow |x|
        net.input_gain.bias.fill_(1.0)
        following = net(scale * x, t) / scale
    assert bounded.abs().max() < 0.01
    torch.testing.assert_close(following, x, rtol=0, atol=0.01)


def test_image_metric_treats_reference_and_samples_alike():
    torch.manual_seed(0)
    classifier = FeatureClassifier(1, 10).eval()
    real = torch.rand(200, 1, 8, 8) * 2 - 1
    quality = ImageQuality(classifier, real)
    out_of_range = 3 * torch.randn(200, 1, 8, 8)  # a teacher that overshoots [-1, 1]
    quality.set_teacher_samples(out_of_range)
    assert quality(out_of_range)["fd_teacher"] == pytest.approx(0.0, abs=1e-6)


def test_teacher_row_is_scored_against_independent_reference_noise():
    torch.manual_seed(0)
    teacher = DiffusionTeacher(data_shape=[1, 4, 4], width=16, depth=1, sample_ode_steps=10).eval()
    quality = ImageQuality(FeatureClassifier(1, 10).eval(), torch.rand(64, 1, 4, 4) * 2 - 1)
    paired = draw_paired_noise(64, [1, 4, 4], 0, 1, seed=0)
    reference = draw_paired_noise(64, [1, 4, 4], 0, 1, seed=1)
    data = torch.rand(64, 1, 4, 4) * 2 - 1
    rows, _ = evaluate_paired(teacher, {}, paired, quality, (1,), 10, reference=reference, data_samples=data)
    by_model = {row["model"]: row for row in rows}
    assert np.isnan(by_model["data"]["ode_error"]) and by_model["teacher"]["ode_error"] == 0.0
    assert by_model["teacher"]["fd_teacher"] > 0.0  # not the trivial self-comparison
    expected = quality.features(teacher.sample(reference.noise, None, 10))
    np.testing.assert_allclose(quality.teacher_features, expected)


def test_mixture_data_row_sits_at_the_metric_floor():
    mixture = make_mixture("ring8")
    quality = MixtureQuality(mixture, 1000, seed=1)
    fresh = quality(mixture.sample(1000, torch.Generator().manual_seed(2)))
    assert abs(fresh["mmd"]) < 0.01 and fresh["sliced_w2"] < 0.06
    assert fresh["log_likelihood"] == pytest.approx(-0.31, abs=0.15)  # E log p of ring8 (std 0.1) ~ -0.31


@pytest.mark.parametrize("name", ["mixture", "digits", "shapes"])
def test_recipes_use_a_schedule_a_one_step_student_can_invert(name):
    """A one-step student outputs x0 = (x - sqrt(1 - a) eps) / sqrt(a) at the noisiest grid point. On the linear
    DDPM schedule 1 / sqrt(a) = 156 there, so small epsilon errors became 1-step samples at |x| ~ 10..50 (the first
    table's 1-step ODE errors); the paper's (SDXL's) scaled-linear schedule has 1 / sqrt(a) = 14.6."""
    from lamina_consistency.compare import RECIPES
    from lamina_consistency.schedule import ODEGrid

    schedule = RECIPES[name].teacher.get("beta_schedule", "linear")
    grid = ODEGrid.from_ddpm(100, 1000, schedule)
    assert float(grid.alpha_bars[-1]) ** -0.5 < 20
