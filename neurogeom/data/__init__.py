"""Data sets of the seed's experiments."""

from .mnist import ImageData, load_digits, load_image_data, load_mnist, read_idx, write_idx
from .toy import (
    sinusoid_boundary,
    sinusoid_boundary_distance,
    sinusoid_task,
    xor_boundary_distance,
    xor_points,
    xor_task,
)

__all__ = [
    "ImageData",
    "load_digits",
    "load_image_data",
    "load_mnist",
    "read_idx",
    "sinusoid_boundary",
    "sinusoid_boundary_distance",
    "sinusoid_task",
    "write_idx",
    "xor_boundary_distance",
    "xor_points",
    "xor_task",
]
