"""Data: procedural shapes, digits and mixture DataModules yield what the models expect."""

import numpy as np
import pytest
import torch

from lamina_consistency.data.datamodules import DigitsDataModule, MixtureDataModule, ShapesDataModule
from lamina_consistency.data.shapes import SHAPE_CLASSES, render_shapes


def test_shapes_are_reproducible_antialiased_and_class_distinct():
    images, labels = render_shapes(200, 16, seed=3)
    again, _ = render_shapes(200, 16, seed=3)
    np.testing.assert_array_equal(images, again)
    assert images.shape == (200, 1, 16, 16) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert set(labels.tolist()) == set(range(len(SHAPE_CLASSES)))
    grey_levels = np.unique(images.round(3))
    assert len(grey_levels) > 20  # anti-aliased edges, not a binary mask
    ink = (images + 1).reshape(200, -1).sum(1)
    mean_ink = [ink[labels == k].mean() for k in range(len(SHAPE_CLASSES))]
    assert mean_ink[0] > mean_ink[4]  # a disc has more ink than a ring of the same size


@pytest.mark.parametrize(
    ("module", "shape"),
    [
        (MixtureDataModule(num_train=512, num_val=64, batch_size=32), (32, 2)),
        (DigitsDataModule(batch_size=32), (32, 1, 8, 8)),
        (ShapesDataModule(num_train=64, num_val=32, batch_size=32), (32, 1, 16, 16)),
    ],
)
def test_datamodules_yield_images_and_labels(module, shape):
    module.setup("fit")
    x, labels = next(iter(module.train_dataloader()))
    assert tuple(x.shape) == shape and x.dtype == torch.float32 and labels.dtype == torch.long
    assert x.abs().max() <= 2.0
    assert len(module.val_set) > 0
