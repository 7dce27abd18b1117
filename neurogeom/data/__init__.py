"""Readers of recordings (core) and the data sets of the seed's experiments (application).

``neurogeom.data.neural`` (``Recording``, ``from_assembly``, ``read_arrays``, ``read_netcdf``,
``read_nwb``)
is part of the core and loaded by ``import neurogeom``. The image and toy data sets
(``neurogeom.data.mnist``, ``neurogeom.data.cifar``, ``neurogeom.data.augment``,
``neurogeom.data.toy``) belong to the paper-reproduction application: their names are
importable from here, but the module that defines one is imported only when the name is
first used (see ``docs/architecture.md``):

>>> from neurogeom.data import xor_points
>>> xor_points()[0].shape
(4, 2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import forward
from .neural import Recording, from_assembly, read_arrays, read_netcdf, read_nwb

#: Application names forwarded on demand: name -> submodule of neurogeom.data.
APPLICATION_NAMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "CIFAR10_MEAN",
            "CIFAR10_STD",
            "ImageData",
            "denormalize",
            "load_cifar10",
            "normalize",
            "synthetic_cifar10",
        ),
        "cifar",
    ),
    **dict.fromkeys(
        ("load_digits", "load_image_data", "load_mnist", "read_idx", "write_idx"), "mnist"
    ),
    **dict.fromkeys(
        (
            "sinusoid_boundary",
            "sinusoid_boundary_distance",
            "sinusoid_task",
            "xor_boundary_distance",
            "xor_points",
            "xor_task",
        ),
        "toy",
    ),
}

if TYPE_CHECKING:  # the type checker sees the forwarded names
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
else:  # the interpreter imports them on first use
    __getattr__, __dir__ = forward(__name__, APPLICATION_NAMES, globals())

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "ImageData",
    "Recording",
    "denormalize",
    "from_assembly",
    "load_cifar10",
    "load_digits",
    "load_image_data",
    "load_mnist",
    "normalize",
    "read_arrays",
    "read_idx",
    "read_netcdf",
    "read_nwb",
    "sinusoid_boundary",
    "sinusoid_boundary_distance",
    "sinusoid_task",
    "synthetic_cifar10",
    "write_idx",
    "xor_boundary_distance",
    "xor_points",
    "xor_task",
]
