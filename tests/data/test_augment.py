"""Image augmentations: exact special cases, ranges, seeded reproducibility."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from neurogeom.data.augment import (
    adjust_hue,
    color_jitter,
    gaussian_blur,
    random_crop_flip,
    random_grayscale,
    random_resized_crop,
    rgb_to_grayscale,
    solarize,
)
from neurogeom.errors import ShapeError


def imgs(m: int = 6, size: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(m, 3, size, size, generator=torch.Generator().manual_seed(seed))


def g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_crop_flip_output_is_a_window_of_the_padded_image():
    x = imgs()
    y = random_crop_flip(x, padding=2, generator=g(1))
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(len(x)):
        windows = [
            w
            for dy in range(5)
            for dx in range(5)
            for w in (padded[i, :, dy : dy + 8, dx : dx + 8],)
        ]
        candidates = windows + [w.flip(-1) for w in windows]
        assert any(torch.equal(y[i], c) for c in candidates)


def test_crop_flip_without_padding_is_identity_or_mirror():
    x = imgs(32)
    y = random_crop_flip(x, padding=0, generator=g(2))
    same = [torch.equal(a, b) for a, b in zip(y, x, strict=True)]
    flipped = [torch.equal(a, b.flip(-1)) for a, b in zip(y, x, strict=True)]
    assert all(s or f for s, f in zip(same, flipped, strict=True))
    assert 0 < sum(flipped) < 32


def test_resized_crop_full_area_unit_ratio_is_identity():
    x = imgs()
    y = random_resized_crop(x, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip=0.0, generator=g(0))
    torch.testing.assert_close(y, x, rtol=0, atol=1e-6)
    y = random_resized_crop(x, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip=1.0, generator=g(0))
    torch.testing.assert_close(y, x.flip(-1), rtol=0, atol=1e-6)


def test_hue_rotation_and_grayscale_closed_forms():
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1.0
    green = adjust_hue(red, torch.tensor([1 / 3]))
    torch.testing.assert_close(green[0, :, 0, 0], torch.tensor([0.0, 1.0, 0.0]), atol=1e-6, rtol=0)
    x = imgs()
    torch.testing.assert_close(adjust_hue(x, torch.zeros(len(x))), x, atol=1e-6, rtol=0)
    gray = rgb_to_grayscale(x)
    expected = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    for c in range(3):
        torch.testing.assert_close(gray[:, c], expected)


def test_jitter_with_zero_strength_is_identity_and_ranges_hold():
    x = imgs()
    y = color_jitter(x, brightness=0, contrast=0, saturation=0, hue=0, p=1.0, generator=g(0))
    torch.testing.assert_close(y, x, atol=1e-6, rtol=0)
    y = color_jitter(x, generator=g(1))
    assert float(y.min()) >= 0 and float(y.max()) <= 1
    assert not torch.equal(y, x)


def test_solarize_grayscale_blur_special_cases():
    x = imgs()
    torch.testing.assert_close(solarize(x, p=1.0), torch.where(x >= 0.5, 1 - x, x))
    torch.testing.assert_close(solarize(x, p=0.0), x)
    torch.testing.assert_close(random_grayscale(x, p=1.0), rgb_to_grayscale(x))
    flat = torch.full((2, 3, 8, 8), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, generator=g(0)), flat)
    blurred = gaussian_blur(x, generator=g(0))
    assert float(blurred.var()) < float(x.var())  # blurring smooths
    with pytest.raises(ValueError, match="odd"):
        gaussian_blur(x, kernel_size=4)


@pytest.mark.parametrize(
    "fn",
    [
        random_crop_flip,
        random_resized_crop,
        color_jitter,
        random_grayscale,
        gaussian_blur,
        solarize,
    ],
)
def test_seeded_reproducibility_and_range(fn):
    x = imgs()
    a, b = fn(x, generator=g(7)), fn(x, generator=g(7))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert a.shape == x.shape and float(a.min()) >= 0 and float(a.max()) <= 1


def test_shape_errors():
    with pytest.raises(ShapeError):
        random_crop_flip(torch.zeros(3, 8, 8))
    with pytest.raises(ShapeError):
        color_jitter(torch.zeros(2, 1, 8, 8))
