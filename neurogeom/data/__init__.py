"""Data sets of the seed's experiments."""

from .toy import sinusoid_task

__all__ = ["sinusoid_task"]

from .cifar import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    ImageData,
    denormalize,
    load_cifar10,
    normalize,
    synthetic_cifar10,
)

__all__ += [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "ImageData",
    "denormalize",
    "load_cifar10",
    "normalize",
    "synthetic_cifar10",
]

from .neural import Recording, read_arrays, read_netcdf, read_nwb  # noqa: E402

__all__ += ["Recording", "read_arrays", "read_netcdf", "read_nwb"]
