"""Slices generate each block's points on demand; ``ng.geometry`` holds one block at a time."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

import neurogeom as ng
from neurogeom.errors import ResourceError

IMAGE = (3, 32, 32)


def _images(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(size=IMAGE) for _ in range(3)]


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_3000_by_3000_plane_of_images_is_built_in_megabytes():
    peak = _peak_bytes(lambda: ng.Plane(*_images(), resolution=3000))
    assert peak < 20 * 2**20  # its 9e6 points would take 221 GB


@pytest.mark.parametrize(
    "make",
    [
        lambda: ng.Line(np.zeros(IMAGE), np.ones(IMAGE), steps=7),
        lambda: ng.Plane(*_images(), resolution=5),
        lambda: ng.Grid([(-1, 1), (0, 2), (3, 4)], resolution=(3, 4, 2)),
    ],
    ids=["line", "plane", "grid"],
)
def test_blocks_are_the_points_of_the_slice_in_order(make):
    sl = make()
    whole = np.concatenate([block for _, block in sl.blocks(3)])
    assert whole.shape == (len(sl), *sl.stimulus_shape)
    np.testing.assert_array_equal(whole, sl.points)


def test_block_points_follow_the_closed_forms():
    a, b, c = _images()
    line = ng.Line(a, b, steps=5)
    np.testing.assert_allclose(line.block(1, 3), [a + 0.25 * (b - a), a + 0.5 * (b - a)])
    plane = ng.Plane(a, b, c, resolution=5, extent=1.0)
    uv = np.array([plane.coords["u"][2], plane.coords["v"][3]])  # point 2 * 5 + 3
    np.testing.assert_allclose(plane.block(13, 14)[0], plane.to_stimulus(uv))
    grid = ng.Grid([(0, 1), (10, 12)], resolution=(2, 3))
    np.testing.assert_array_equal(grid.block(4, 6), [[1.0, 11.0], [1.0, 12.0]])


def test_geometry_holds_one_block_of_a_large_image_plane():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 4)).double()
    rm = ng.TorchResponseMap(net)
    images = _images()
    ng.geometry(rm, ng.Plane(*images, resolution=2))  # imports and caches outside the count
    # 3600 images: 88 MB if the plane's points were materialised
    peak = _peak_bytes(lambda: ng.geometry(rm, ng.Plane(*images, resolution=60), block_size=64))
    assert peak < 12 * 2**20


def test_a_request_whose_output_cannot_fit_is_refused_before_allocating():
    rm = ng.TorchResponseMap(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3072, 4)))
    plane = ng.Plane(*_images(), resolution=3000)
    with pytest.raises(ResourceError, match=r"9000000 points.*GiB"):
        ng.geometry(rm, plane, space="full", rank=4, keep_metric=True)
