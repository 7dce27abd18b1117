"""The poster's claim, measured: "training magnifies volume near the decision boundary".

Two rank statistics over the points of a slice (grid, line or plane):

* Spearman ρ of log volume element against prediction entropy (positive if volume is large
  where the network is uncertain, i.e. near its own decision boundary);
* on 2-D tasks, Spearman ρ against the distance to the task's true boundary (negative if
  volume is large near the boundary).

Rank correlations are invariant to monotone transformations, so the log base and the
entropy's base do not matter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy.stats import spearmanr

from ..errors import ParameterError

__all__ = ["claim_table", "spearman"]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two fields over all their points.

    Parameters
    ----------
    a, b : array, same shape
        Fields on the same points (flattened).

    Returns
    -------
    float in [-1, 1]

    Raises
    ------
    ValueError
        Different shapes, fewer than 3 points, non-finite values, or a constant field
        (whose rank correlation is undefined).

    Examples
    --------
    >>> x = np.linspace(0.1, 1, 20)
    >>> spearman(np.log(x), x**3), spearman(x, -x)
    (1.0, -1.0)
    """
    x, y = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ParameterError(f"fields have {x.size} and {y.size} points; they must match.")
    if x.size < 3:
        raise ParameterError(f"need at least 3 points for a rank correlation; got {x.size}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ParameterError(
            "fields hold NaN or infinite values; a rank correlation needs finite ones."
        )
    for name, v in (("first", x), ("second", y)):
        if np.ptp(v) == 0:
            raise ParameterError(
                f"the {name} field is constant; its rank correlation is undefined."
            )
    return float(spearmanr(x, y).statistic)


def claim_table(ds: xr.Dataset, *, by: Sequence[str] = ("width", "epoch")) -> str:
    """Text table of the claim statistics in ``ds`` (mean ± sd over ``seed``).

    A correlation over a narrow entropy range says little, and one of an unconfident
    classifier says little about its decision boundary, so when ``ds`` holds them each row
    also gives the training ``accuracy`` (mean ± sd over seeds) and the range of the
    prediction ``entropy`` over the slice's points (min–max over points and seeds, in
    hartley: 0 is certain, 1 is uniform over 10 classes).

    Parameters
    ----------
    ds : xarray.Dataset
        Has ``spearman_entropy`` (and optionally ``spearman_distance``, ``accuracy``,
        ``entropy``) with a ``seed`` dimension and the dimensions ``by`` that exist in it
        (others are ignored).
    by : sequence of str
        Row dimensions, outer first.

    Returns
    -------
    str

    Examples
    --------
    >>> ds = xr.Dataset({"spearman_entropy": (("epoch", "seed"), [[0.5, 0.7]])},
    ...                 coords={"epoch": [10], "seed": [0, 1]})
    >>> print(claim_table(ds))
    epoch  rho(logvol, entropy)  n_seeds
    10     +0.600 ± 0.141        2
    """
    stats = [v for v in ("spearman_entropy", "spearman_distance") if v in ds]
    extra = [str(d) for d in ds["spearman_entropy"].dims if d not in (*by, "seed")]
    rows_dims = [d for d in by if d in ds.dims] + extra
    heads = {
        "spearman_entropy": "rho(logvol, entropy)",
        "spearman_distance": "rho(logvol, distance)",
    }
    context = [v for v in ("accuracy", "entropy") if v in ds]
    context_heads = {"accuracy": "accuracy", "entropy": "entropy range"}
    header: list[str] = [
        *rows_dims,
        *(heads[s] for s in stats),
        *(context_heads[c] for c in context),
        "n_seeds",
    ]
    stacked = ds[stats].stack(row=rows_dims) if rows_dims else ds[stats].expand_dims(row=[0])
    lines: list[list[str]] = []
    for i in range(stacked.sizes["row"]):
        cell = stacked.isel(row=i)
        where = {d: cell[d].values for d in rows_dims}
        keys = [str(v) for v in where.values()]
        vals = []
        for s in stats:
            vals.append(_mean_sd(cell[s].values, "+.3f"))
        for c in context:
            da = ds[c].sel({d: v for d, v in where.items() if d in ds[c].dims})
            if c == "accuracy":
                vals.append(_mean_sd(da.values, ".3f"))
            else:
                vals.append(f"{float(da.min()):.3f}-{float(da.max()):.3f}")
        n = cell.sizes.get("seed", 1)
        lines.append([*keys, *vals, str(n)])
    widths = [max(len(r[c]) for r in [header, *lines]) for c in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r).rstrip() for r in [header, *lines])


def _mean_sd(values: np.ndarray, spec: str) -> str:
    v = np.atleast_1d(values)
    sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return f"{float(v.mean()):{spec}} ± {sd:.3f}"
