"""Time a 40x40 grid of Ricci scalars for a width-200 shallow net (2-D input) on CPU.

Generic path: ``neurogeom.scalar_curvature`` on a ``TorchResponseMap`` (third derivatives of
the network by nested forward-mode autodiff, float64). Closed form:
``neurogeom.riemann.shallow_ricci_scalar``. Prints wall times and the relative
difference between the two: pointwise (large only where R crosses 0, where any float64
evaluation has an absolute error of ~1e-15 max|R|), away from those crossings, and relative
to max |R|.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_curvature.py [--width 200] [--res 40]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import neurogeom as ng
from neurogeom.models import ShallowNet
from neurogeom.riemann import shallow_parameters, shallow_ricci_scalar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=200)
    parser.add_argument("--res", type=int, default=40)
    parser.add_argument("--activations", nargs="+", default=["sigmoid", "tanh", "gelu"])
    args = parser.parse_args()
    u = np.linspace(-1.5, 1.5, args.res)
    grid = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    print(
        f"{args.res}x{args.res} grid, width {args.width}, torch threads {torch.get_num_threads()}"
    )
    for activation in args.activations:
        torch.manual_seed(0)
        net = ShallowNet(2, args.width, activation=activation)  # float32 model, float64 curvature
        rm = ng.TorchResponseMap(net, "hidden0")
        ng.scalar_curvature(rm, grid[:4])  # warm-up
        t0 = time.perf_counter()
        generic = ng.scalar_curvature(rm, grid)
        t1 = time.perf_counter()
        closed = shallow_ricci_scalar(grid, *shallow_parameters(net))
        t2 = time.perf_counter()
        diff = np.abs(generic - closed)
        rel = diff / np.abs(closed)
        big = np.abs(closed) >= 1e-3 * np.abs(closed).max()
        print(
            f"{activation:8s} autograd {t1 - t0:5.2f} s  closed form {t2 - t1:5.2f} s  "
            f"max rel diff {rel.max():.1e} (pointwise), {rel[big].max():.1e} (|R| >= 1e-3 max), "
            f"{diff.max() / np.abs(closed).max():.1e} (of max |R|)  "
            f"R in [{closed.min():.3g}, {closed.max():.3g}]"
        )


if __name__ == "__main__":
    main()
