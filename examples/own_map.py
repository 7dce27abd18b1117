"""A map kind of one's own: an analytic torus in numpy, measured by every consumer.

The torus of tube radius a around a circle of radius c, in the chart (u, v):
    r(u, v) = ((c + a cos v) cos u, (c + a cos v) sin u, a sin v),
with metric diag((c + a cos v)², a²), log-volume log(a (c + a cos v)) and Ricci scalar
2 cos v / (a (c + a cos v)). Only ``layer_responses`` and ``layer_jacobians`` are written;
``ng.geometry``, curvature (by central differences of the Jacobian, the protocol's
fallback) and ``ng.compare`` come with the interface.

Run: ``python examples/own_map.py``.
"""

from __future__ import annotations

import numpy as np

import neurogeom as ng


class Torus(ng.ResponseMap):
    """Responses of a torus-shaped population code (3 "neurons") to stimuli (u, v)."""

    layers = ("torus",)

    def __init__(self, c: float = 2.0, a: float = 1.0) -> None:
        self.c, self.a = c, a

    def layer_responses(self, x):
        u, v = np.asarray(x, dtype=float).T
        rho = self.c + self.a * np.cos(v)
        return {"torus": np.stack([rho * np.cos(u), rho * np.sin(u), self.a * np.sin(v)], 1)}

    def layer_jacobians(self, x, tangents=None):
        u, v = np.asarray(x, dtype=float).T
        rho, a = self.c + self.a * np.cos(v), self.a
        d_u = np.stack([-rho * np.sin(u), rho * np.cos(u), 0 * u], 1)
        d_v = np.stack([-a * np.sin(v) * np.cos(u), -a * np.sin(v) * np.sin(u), a * np.cos(v)], 1)
        J = np.stack([d_u, d_v], -1)  # (m, 3, 2)
        return {"torus": J if tangents is None else J @ np.asarray(tangents).T}


def main() -> None:
    torus = Torus()
    grid = ng.Grid([(0.0, 2 * np.pi), (0.0, 2 * np.pi)], resolution=(8, 9), dims=("u", "v"))
    ds = ng.geometry(torus, grid, curvature=True)
    v = grid.coords["v"][None, :]
    rho = torus.c + torus.a * np.cos(v)
    exact_logvol = np.log(torus.a * rho) + 0 * grid.coords["u"][:, None]
    exact_R = 2 * np.cos(v) / (torus.a * rho) + 0 * exact_logvol
    err_lv = float(np.abs(ds.log_volume_element.values - exact_logvol).max())
    err_R = float(np.abs(ds.ricci_scalar.values - exact_R).max())
    print(f"log-volume: max error {err_lv:.1e} against log(a (c + a cos v))")
    print(f"Ricci scalar: max error {err_R:.1e} against 2 cos v / (a (c + a cos v))")
    assert err_lv < 1e-12 and err_R < 1e-6

    # the same points on a fatter torus: how do the volume elements compare?
    fat = ng.geometry(Torus(c=2.0, a=1.5), grid)
    result = ng.compare(ds, fat)
    print(f"Spearman of log-volumes, thin vs fat torus: {float(result['spearman_r']):.3f}")


if __name__ == "__main__":
    main()
