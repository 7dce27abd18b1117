"""Matplotlib figures of geometry Datasets (they only read Datasets).

Every function takes a Dataset (and ``ax=None`` or returns a new figure); colour bars are
labelled from the variables' ``long_name`` attributes.
"""

from ._common import log10_volume
from .deep import checkpoint_plane_panels, interpolation_panels, stage_panels
from .experiments import (
    claim_progression,
    line_plot,
    loss_curves,
    plane_panels,
    ternary_plot,
    volume_panels,
)
from .maps import compare_fields, volume_map

__all__ = [
    "checkpoint_plane_panels",
    "claim_progression",
    "compare_fields",
    "interpolation_panels",
    "line_plot",
    "log10_volume",
    "loss_curves",
    "plane_panels",
    "stage_panels",
    "ternary_plot",
    "volume_map",
    "volume_panels",
]
