"""Data sets of the seed's experiments."""

from .neural import Recording, read_arrays, read_netcdf, read_nwb
from .toy import sinusoid_task

__all__ = ["Recording", "read_arrays", "read_netcdf", "read_nwb", "sinusoid_task"]
