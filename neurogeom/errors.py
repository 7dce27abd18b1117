"""Exceptions raised by neurogeom.

Every error derives from :class:`NeurogeomError`; the specific ones also derive from
the builtin exception they refine, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataFormatError",
    "DataNotFoundError",
    "InsufficientSamplesError",
    "LayerError",
    "NeurogeomError",
    "NonFiniteError",
    "NotPositiveSemidefiniteError",
    "OutOfDomainError",
    "ShapeError",
    "SingularMetricError",
]


class NeurogeomError(Exception):
    """Root of all neurogeom errors."""


class ShapeError(NeurogeomError, ValueError):
    """An array has the wrong number of dimensions or the wrong size."""


class NonFiniteError(NeurogeomError, ValueError):
    """An input holds NaN or infinite values."""


class LayerError(NeurogeomError, KeyError):
    """A requested layer does not exist in the model."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class NotPositiveSemidefiniteError(NeurogeomError, ValueError):
    """A matrix given as a metric is not symmetric positive semidefinite."""


class SingularMetricError(NeurogeomError, ValueError):
    """A metric is singular where a full-rank one was required."""


class InsufficientSamplesError(NeurogeomError, ValueError):
    """Too few samples (e.g. under an estimator's kernel) to estimate what was asked."""


class OutOfDomainError(NeurogeomError, ValueError):
    """A query point lies outside the region the stimuli sampled."""


class DataNotFoundError(NeurogeomError, FileNotFoundError):
    """A data set's files are not where they were looked for."""


class DataFormatError(NeurogeomError, ValueError):
    """A data file is truncated, corrupt or not in the expected format."""


class ConfigError(NeurogeomError, ValueError):
    """A setting (of an experiment, a training run or the command line) is unknown or invalid.

    The message names the setting, the value given and what is expected.
    """
