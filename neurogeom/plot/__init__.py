"""Matplotlib figures of geometry Datasets (they only read Datasets).

Every function takes a Dataset (and ``ax=None`` or returns a new figure); colour bars are
labelled from the variables' ``long_name`` attributes.

The generic plots (``neurogeom.plot.maps``: ``volume_map``, ``compare_fields``,
``geodesic_paths``, ``threshold_ellipses``, ``distance_matrix``;
``log10_volume``) are part of the core. The paper's figures (``neurogeom.plot.experiments``,
``neurogeom.plot.deep``) belong to the application: their names are importable from here,
but their modules are imported only when a name is first used (see ``docs/architecture.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import forward
from ._common import log10_volume
from .maps import (
    compare_fields,
    distance_matrix,
    geodesic_paths,
    threshold_ellipses,
    volume_map,
)

#: Application names forwarded on demand: name -> submodule of neurogeom.plot.
APPLICATION_NAMES: dict[str, str] = {
    **dict.fromkeys(("checkpoint_plane_panels", "interpolation_panels", "stage_panels"), "deep"),
    **dict.fromkeys(
        (
            "claim_progression",
            "line_plot",
            "loss_curves",
            "plane_panels",
            "ternary_plot",
            "volume_panels",
        ),
        "experiments",
    ),
}

if TYPE_CHECKING:  # the type checker sees the forwarded names
    from .deep import checkpoint_plane_panels, interpolation_panels, stage_panels
    from .experiments import (
        claim_progression,
        line_plot,
        loss_curves,
        plane_panels,
        ternary_plot,
        volume_panels,
    )
else:  # the interpreter imports them on first use
    __getattr__, __dir__ = forward(__name__, APPLICATION_NAMES, globals())

__all__ = [
    "checkpoint_plane_panels",
    "claim_progression",
    "compare_fields",
    "distance_matrix",
    "geodesic_paths",
    "interpolation_panels",
    "line_plot",
    "log10_volume",
    "loss_curves",
    "plane_panels",
    "stage_panels",
    "ternary_plot",
    "threshold_ellipses",
    "volume_map",
    "volume_panels",
]
