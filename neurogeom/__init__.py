"""neurogeom: Riemannian geometry of neural representations.

``import neurogeom as ng`` gives the public API: response maps over networks and sampled
recordings, slices of stimulus space, ``ng.geometry`` (labelled Datasets of metric,
volume element and spectrum), curvature, comparison of geometry fields, scikit-learn
transformers and readers of recordings.

That is the core. The paper-reproduction application (``neurogeom.experiments`` with
``run_experiment``, ``neurogeom.train``, the model zoo ``neurogeom.models``, the image and
toy data sets, the paper figures, the CLI) builds on it and is imported explicitly:
``import neurogeom`` loads none of it (``tests/test_layers.py``; ``docs/architecture.md``).
"""

from typing import TYPE_CHECKING

from . import comparison, errors, estimators, scale, simulate
from ._version import __version__
from .comparison import (
    affine_invariant_distance,
    compare,
    correlation_test,
    log_euclidean_distance,
    principal_agreement,
)
from .curvature import (
    christoffel_symbols,
    curvature_intervals,
    curvature_tensors,
    extrinsic_curvature,
    mean_curvature,
    principal_curvatures,
    ricci_tensor,
    scalar_curvature,
    second_fundamental_form,
)
from .data.neural import (
    Recording,
    from_assembly,
    geometry_per_time_bin,
    read_arrays,
    read_netcdf,
    read_nwb,
)
from .dataset import load, save
from .errors import NeurogeomError
from .estimators import available_estimators, get_estimator
from .geodesics import (
    discrimination_thresholds,
    geodesic,
    geodesic_distance,
    geodesic_distances,
)
from .maps import Measurement, ResponseMap, SampledResponseMap, TorchResponseMap
from .measure import geometry
from .pipeline import NetworkGeometry, SampledGeometry
from .riemann import (
    MetricOperator,
    check_metric,
    iterative_log_volume,
    log_volume_element,
    metric_spectrum,
    pullback_metric,
    stochastic_logdet,
    top_eigenvalues,
    volume_element,
)
from .slices import Grid, Line, Plane, Points, Slice

__all__ = [
    "Grid",
    "Line",
    "Measurement",
    "MetricOperator",
    "NetworkGeometry",
    "NeurogeomError",
    "Plane",
    "Points",
    "Recording",
    "ResponseMap",
    "SampledGeometry",
    "SampledResponseMap",
    "Slice",
    "TorchResponseMap",
    "__version__",
    "affine_invariant_distance",
    "available_estimators",
    "check_metric",
    "christoffel_symbols",
    "compare",
    "comparison",
    "correlation_test",
    "curvature_intervals",
    "curvature_tensors",
    "discrimination_thresholds",
    "errors",
    "estimators",
    "extrinsic_curvature",
    "from_assembly",
    "geodesic",
    "geodesic_distance",
    "geodesic_distances",
    "geometry",
    "geometry_per_time_bin",
    "get_estimator",
    "iterative_log_volume",
    "load",
    "log_euclidean_distance",
    "log_volume_element",
    "mean_curvature",
    "metric_spectrum",
    "principal_agreement",
    "principal_curvatures",
    "pullback_metric",
    "read_arrays",
    "read_netcdf",
    "read_nwb",
    "ricci_tensor",
    "save",
    "scalar_curvature",
    "scale",
    "second_fundamental_form",
    "simulate",
    "stochastic_logdet",
    "top_eigenvalues",
    "volume_element",
]


if not TYPE_CHECKING:  # a module __getattr__ would hide misspelt names from type checkers
    _MOVED = {"run_experiment": "neurogeom.experiments"}

    def __getattr__(name: str) -> object:
        """Point names that left the top level to the application module that has them."""
        if name in _MOVED:
            raise AttributeError(
                f"neurogeom.{name} is part of the experiments application, which `import "
                f"neurogeom` does not load; use `from {_MOVED[name]} import {name}`."
            )
        raise AttributeError(f"module 'neurogeom' has no attribute {name!r}")
