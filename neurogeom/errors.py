"""Exceptions raised by neurogeom.

Every error derives from :class:`NeurogeomError`; the specific ones also derive from
the builtin exception they refine, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "ConfigError",
    "ConvergenceError",
    "DataFormatError",
    "DataNotFoundError",
    "FileWriteError",
    "InputTypeError",
    "InsufficientSamplesError",
    "LayerError",
    "MissingDependencyError",
    "ModelError",
    "NeurogeomError",
    "NonFiniteError",
    "NotFittedError",
    "NotPositiveSemidefiniteError",
    "OutOfDomainError",
    "ParameterError",
    "RangeError",
    "ResourceError",
    "ShapeError",
    "SingularMetricError",
    "VariableError",
]


class NeurogeomError(Exception):
    """Root of all neurogeom errors."""


class ShapeError(NeurogeomError, ValueError):
    """An array has the wrong number of dimensions or the wrong size."""


class NonFiniteError(NeurogeomError, ValueError):
    """An input holds NaN or infinite values (or a model produced them).

    ``index`` is the position along the first axis (the point) of the first bad entry,
    when known; :meth:`shifted` restates the error for a block that starts at ``offset``
    of the caller's array.
    """

    INDEX = "\x00index\x00"

    def __init__(self, message: str, *, index: int | None = None) -> None:
        self.index = index
        self._template = message
        shown = message if index is None else message.replace(self.INDEX, str(index))
        super().__init__(shown)

    def shifted(self, offset: int) -> NonFiniteError:
        """The same error with its point index counted from ``offset`` earlier."""
        if self.index is None or not offset:
            return self
        return NonFiniteError(self._template, index=self.index + offset)


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


class ParameterError(NeurogeomError, ValueError):
    """A setting (a keyword argument or a configuration value) is outside what it accepts."""


class InputTypeError(NeurogeomError, TypeError):
    """An argument is of a type that cannot be used (e.g. complex data, a non-callable)."""


class ConvergenceError(NeurogeomError, RuntimeError):
    """An iterative solver (e.g. a geodesic's Newton iteration) did not converge."""


class ModelError(NeurogeomError, RuntimeError):
    """The user's model or map raised while being measured."""


class ResourceError(NeurogeomError, MemoryError):
    """A request would not fit in memory; it is refused before anything is allocated."""


class RangeError(NeurogeomError, OverflowError):
    """A result would lie outside the range of float64 (e.g. a volume element of e^-4000)."""


class VariableError(NeurogeomError, KeyError):
    """A Dataset lacks a variable (or a unit, a layer of a Dataset) that was asked for."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(NeurogeomError, ImportError):
    """An optional package that this feature needs is not installed."""


class ConfigError(ParameterError):
    """A setting of an experiment, a training run or the command line is unknown or invalid.

    The message names the setting, the value given and what is expected.
    """


class NotFittedError(NeurogeomError, _SklearnNotFittedError):
    """A fitted attribute was used before ``fit`` (a transformer or an estimator).

    Also scikit-learn's ``NotFittedError`` (a ``ValueError`` and an ``AttributeError``), so
    scikit-learn's model selection and checks treat it as theirs.
    """


class FileWriteError(NeurogeomError, OSError):
    """A file or store could not be written where it was asked for (nothing is left there)."""
