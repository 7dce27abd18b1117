"""Image augmentations in plain torch tensor ops, batched and seeded.

Every function takes a batch of images ``(m, C, H, W)`` with values in ``[0, 1]`` (apply
normalisation afterwards) and a :class:`torch.Generator` that draws the per-image random
parameters, so the same generator state gives the same output. Random parameters are
drawn on the generator's device and moved to the images' device, so images can live on a
GPU while the generator stays on the CPU.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..errors import ParameterError, ShapeError

__all__ = [
    "adjust_hue",
    "color_jitter",
    "gaussian_blur",
    "random_crop_flip",
    "random_grayscale",
    "random_resized_crop",
    "rgb_to_grayscale",
    "solarize",
]

_LUMA = (0.299, 0.587, 0.114)


def _check_images(x: torch.Tensor, channels: int | None = None) -> None:
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        want = f"(m, {channels}, H, W)" if channels else "(m, C, H, W)"
        raise ShapeError(f"images have shape {tuple(x.shape)}; expected {want}.")


def _uniform(
    n: int, low: float, high: float, generator: torch.Generator | None, like: torch.Tensor
) -> torch.Tensor:
    device = generator.device if generator is not None else torch.device("cpu")
    u = torch.rand(n, generator=generator, device=device, dtype=torch.float64)
    return (low + (high - low) * u).to(device=like.device, dtype=like.dtype)


def _coin(n: int, p: float, generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    """Boolean mask ``(n,)``: ``True`` with probability ``p``."""
    return _uniform(n, 0.0, 1.0, generator, like) < p


def _where_images(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, 1, 1, 1), a, b)


def random_crop_flip(
    x: torch.Tensor, *, padding: int = 4, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Random crop after zero padding, then a horizontal flip with probability 1/2.

    The standard CIFAR training augmentation (``RandomCrop(32, padding=4)`` +
    ``RandomHorizontalFlip()``).

    Parameters
    ----------
    x : Tensor, shape (m, C, H, W)
        Images in ``[0, 1]``.
    padding : int
        Zeros added on every side before cropping back to ``H × W``.
    generator : torch.Generator, optional
        Source of the crop offsets and flips.

    Returns
    -------
    Tensor, shape (m, C, H, W)

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> random_crop_flip(torch.rand(2, 3, 8, 8), generator=g).shape
    torch.Size([2, 3, 8, 8])
    """
    _check_images(x)
    if padding < 0:
        raise ParameterError(f"padding={padding} must be non-negative.")
    m, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    n_off = 2 * padding + 1
    oy = _uniform(m, 0.0, n_off, generator, x).floor().long().clamp(0, n_off - 1)
    ox = _uniform(m, 0.0, n_off, generator, x).floor().long().clamp(0, n_off - 1)
    rows = oy.view(m, 1) + torch.arange(h, device=x.device)
    cols = ox.view(m, 1) + torch.arange(w, device=x.device)
    flip = _coin(m, 0.5, generator, x)
    cols = torch.where(flip.view(m, 1), cols.flip(1), cols)
    idx_r = rows.view(m, 1, h, 1).expand(m, x.shape[1], h, padded.shape[-1])
    out = padded.gather(2, idx_r)
    idx_c = cols.view(m, 1, 1, w).expand(m, x.shape[1], h, w)
    return out.gather(3, idx_c)


def random_resized_crop(
    x: torch.Tensor,
    *,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    flip: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Crop a random area fraction and aspect ratio, resize back bilinearly, maybe flip.

    Parameters
    ----------
    x : Tensor, shape (m, C, H, W)
        Images in ``[0, 1]``.
    scale : (float, float)
        Range of the crop's area as a fraction of the image.
    ratio : (float, float)
        Range of the crop's aspect ratio (width / height), sampled log-uniformly.
    flip : float
        Probability of a horizontal flip.
    generator : torch.Generator, optional

    Returns
    -------
    Tensor, shape (m, C, H, W)

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> random_resized_crop(torch.rand(2, 3, 8, 8), generator=g).shape
    torch.Size([2, 3, 8, 8])
    """
    _check_images(x)
    if not 0 < scale[0] <= scale[1] <= 1 or not 0 < ratio[0] <= ratio[1]:
        raise ParameterError(f"scale={scale} must lie in (0, 1] and ratio={ratio} be positive.")
    m = x.shape[0]
    area = _uniform(m, scale[0], scale[1], generator, x)
    log_r = _uniform(m, math.log(ratio[0]), math.log(ratio[1]), generator, x)
    r = torch.exp(log_r)
    # crop width and height as fractions of the image side
    fw = torch.sqrt(area * r).clamp(max=1.0)
    fh = torch.sqrt(area / r).clamp(max=1.0)
    cx = (2 * _uniform(m, 0, 1, generator, x) - 1) * (1 - fw)
    cy = (2 * _uniform(m, 0, 1, generator, x) - 1) * (1 - fh)
    sign = torch.where(_coin(m, flip, generator, x), -1.0, 1.0).to(x.dtype)
    theta = torch.zeros(m, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = fw * sign
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = fh
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def rgb_to_grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma ``0.299 R + 0.587 G + 0.114 B`` repeated over 3 channels, ``(m, 3, H, W)``."""
    _check_images(x, 3)
    w = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True).expand_as(x)


def _rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x.unbind(1)
    maxc, _ = x.max(1)
    minc, _ = x.min(1)
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    h = torch.where(
        maxc == r,
        ((g - b) / safe) % 6,
        torch.where(maxc == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    h = torch.where(delta > 0, h / 6, torch.zeros_like(h))
    s = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)), 0 * maxc)
    return torch.stack([h, s, maxc], 1)


def _hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    h, s, v = x.unbind(1)
    k = lambda n: (n + h * 6) % 6  # noqa: E731
    f = lambda n: v - v * s * (torch.minimum(k(n), 4 - k(n)).clamp(0, 1))  # noqa: E731
    return torch.stack([f(5.0), f(3.0), f(1.0)], 1)


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of each RGB image by ``shift`` (fractions of a turn, ``(m,)``)."""
    _check_images(x, 3)
    hsv = _rgb_to_hsv(x)
    h = (hsv[:, 0] + shift.view(-1, 1, 1)) % 1.0
    return _hsv_to_rgb(torch.stack([h, hsv[:, 1], hsv[:, 2]], 1))


def color_jitter(
    x: torch.Tensor,
    *,
    brightness: float = 0.4,
    contrast: float = 0.4,
    saturation: float = 0.2,
    hue: float = 0.1,
    p: float = 0.8,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random brightness, contrast, saturation and hue changes, each image with probability ``p``.

    Factors are drawn uniformly from ``[1 - b, 1 + b]`` (hue shifts from ``[-hue, hue]``) and
    applied in the fixed order brightness, contrast, saturation, hue, clipping to ``[0, 1]``
    after each, as torchvision's ``ColorJitter`` does (which also shuffles the order).

    Parameters
    ----------
    x : Tensor, shape (m, 3, H, W)
        RGB images in ``[0, 1]``.
    brightness, contrast, saturation, hue : float
        Jitter strengths (the Barlow Twins settings are 0.4, 0.4, 0.2, 0.1).
    p : float
        Probability that an image is jittered at all.
    generator : torch.Generator, optional

    Returns
    -------
    Tensor, shape (m, 3, H, W)

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> y = color_jitter(torch.rand(2, 3, 8, 8), generator=g)
    >>> bool(((0 <= y) & (y <= 1)).all())
    True
    """
    _check_images(x, 3)
    m = x.shape[0]
    apply = _coin(m, p, generator, x)
    fb = _uniform(m, 1 - brightness, 1 + brightness, generator, x).view(m, 1, 1, 1)
    fc = _uniform(m, 1 - contrast, 1 + contrast, generator, x).view(m, 1, 1, 1)
    fs = _uniform(m, 1 - saturation, 1 + saturation, generator, x).view(m, 1, 1, 1)
    fh = _uniform(m, -hue, hue, generator, x)
    y = (x * fb).clamp(0, 1)
    mean = rgb_to_grayscale(y)[:, :1].mean(dim=(2, 3), keepdim=True)
    y = (fc * y + (1 - fc) * mean).clamp(0, 1)
    y = (fs * y + (1 - fs) * rgb_to_grayscale(y)).clamp(0, 1)
    y = adjust_hue(y, fh).clamp(0, 1)
    return _where_images(apply, y, x)


def random_grayscale(
    x: torch.Tensor, *, p: float = 0.2, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Convert each RGB image to grayscale (3 equal channels) with probability ``p``."""
    _check_images(x, 3)
    return _where_images(_coin(x.shape[0], p, generator, x), rgb_to_grayscale(x), x)


def gaussian_blur(
    x: torch.Tensor,
    *,
    kernel_size: int = 3,
    sigma: tuple[float, float] = (0.1, 2.0),
    p: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Blur each image with probability ``p`` by a Gaussian of random width.

    Parameters
    ----------
    x : Tensor, shape (m, C, H, W)
    kernel_size : int
        Odd kernel size (3 for 32×32 images, about a tenth of the side as in the paper).
    sigma : (float, float)
        Range of the per-image standard deviation, in pixels.
    p : float
        Probability of blurring an image.
    generator : torch.Generator, optional

    Returns
    -------
    Tensor, shape (m, C, H, W)

    Examples
    --------
    >>> y = gaussian_blur(torch.ones(1, 3, 8, 8))
    >>> bool(torch.allclose(y, torch.ones_like(y)))
    True
    """
    _check_images(x)
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ParameterError(f"kernel_size={kernel_size} must be a positive odd integer.")
    m, c, h, w = x.shape
    apply = _coin(m, p, generator, x)
    s = _uniform(m, sigma[0], sigma[1], generator, x)
    r = kernel_size // 2
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t.view(1, -1) / s.view(-1, 1)) ** 2)
    k = k / k.sum(1, keepdim=True)  # (m, K)
    k = k.repeat_interleave(c, 0)  # one kernel per (image, channel)
    y = F.pad(x.reshape(1, m * c, h, w), (r, r, r, r), mode="reflect")
    y = F.conv2d(y, k.view(m * c, 1, 1, kernel_size), groups=m * c)
    y = F.conv2d(y, k.view(m * c, 1, kernel_size, 1), groups=m * c)
    return _where_images(apply, y.view(m, c, h, w), x)


def solarize(
    x: torch.Tensor,
    *,
    threshold: float = 0.5,
    p: float = 0.2,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Invert pixels at or above ``threshold`` (``v ↦ 1 − v``) with probability ``p`` per image."""
    _check_images(x)
    y = torch.where(x >= threshold, 1 - x, x)
    return _where_images(_coin(x.shape[0], p, generator, x), y, x)
