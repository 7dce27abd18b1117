"""Data sets of the seed's experiments."""

from .cifar import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    ImageData,
    denormalize,
    load_cifar10,
    normalize,
    synthetic_cifar10,
)
from .mnist import load_digits, load_image_data, load_mnist, read_idx, write_idx
from .toy import (
    sinusoid_boundary,
    sinusoid_boundary_distance,
    sinusoid_task,
    xor_boundary_distance,
    xor_points,
    xor_task,
)

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "ImageData",
    "denormalize",
    "load_cifar10",
    "load_digits",
    "load_image_data",
    "load_mnist",
    "normalize",
    "read_idx",
    "sinusoid_boundary",
    "sinusoid_boundary_distance",
    "sinusoid_task",
    "synthetic_cifar10",
    "write_idx",
    "xor_boundary_distance",
    "xor_points",
    "xor_task",
]

from .neural import Recording, read_arrays, read_netcdf, read_nwb

__all__ += ["Recording", "read_arrays", "read_netcdf", "read_nwb"]
