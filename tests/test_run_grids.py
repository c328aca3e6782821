"""Sample grids and memorisation pair images put each image where the reader expects it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from slbench.evaluation.grids import GRID_PADDING, tile_images, write_memorisation_pairs, write_sample_grid
from slbench.evaluation.samples import resize_uint8, to_uint8


def solid(values, size=4):
    """One solid-colour 3 x size x size uint8 image per value."""
    return torch.tensor(values, dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 3, size, size).contiguous()


def tile_at(image: np.ndarray, row: int, column: int, size=4):
    top, left = GRID_PADDING + row * (size + GRID_PADDING), GRID_PADDING + column * (size + GRID_PADDING)
    return image[top : top + size, left : left + size]


def test_tiles_are_placed_row_by_row_with_white_gutters():
    grid = np.asarray(tile_images(solid([10, 20, 30, 40, 50]), columns=3))
    assert grid.shape == (2 * (4 + GRID_PADDING) + GRID_PADDING, 3 * (4 + GRID_PADDING) + GRID_PADDING, 3)
    assert (tile_at(grid, 0, 0) == 10).all() and (tile_at(grid, 0, 2) == 30).all()
    assert (tile_at(grid, 1, 1) == 50).all()
    assert (tile_at(grid, 1, 2) == 255).all()  # the unused sixth cell stays background
    assert (grid[0] == 255).all()


def test_sample_grid_png_limits_the_count_and_is_deterministic(tmp_path):
    images = solid(list(range(100)))
    first = write_sample_grid(images, tmp_path / "a" / "grid.png", limit=16)
    second = write_sample_grid(images, tmp_path / "b.png", limit=16)
    assert first.read_bytes() == second.read_bytes()
    with Image.open(first) as png:
        assert png.size == (4 * 6 + 2, 4 * 6 + 2)


def test_memorisation_pairs_put_each_neighbour_below_its_sample(tmp_path):
    fake, real = solid([1, 2, 3]), solid([100, 200])
    path = write_memorisation_pairs(fake, real, [(2, 1), (0, 0)], tmp_path / "pairs.png")
    grid = np.asarray(Image.open(path))
    assert (tile_at(grid, 0, 0) == 3).all() and (tile_at(grid, 1, 0) == 200).all()
    assert (tile_at(grid, 0, 1) == 1).all() and (tile_at(grid, 1, 1) == 100).all()


def test_rejects_float_images():
    with pytest.raises(ValueError, match="uint8"):
        tile_images(torch.rand(2, 3, 4, 4))


def test_uint8_conversion_rounds_and_clips():
    images = torch.tensor([0.0, 1.0, 0.5, 1.2, -0.3, 0.1 / 255]).view(1, 1, 2, 3).expand(1, 3, 2, 3)
    assert to_uint8(images)[0, 0].flatten().tolist() == [0, 255, 128, 255, 0, 0]


def test_resize_only_when_needed():
    images = solid([7, 9], size=8)
    assert resize_uint8(images, 8) is images
    small = resize_uint8(images, 4)
    assert small.shape == (2, 3, 4, 4) and small.dtype == torch.uint8
    assert (small[1] == 9).all()
