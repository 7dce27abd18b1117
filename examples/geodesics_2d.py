"""Geodesics and discrimination thresholds over the volume element of a small network.

A 2-16-16-5 tanh network (seeded weights of gain 3, curved enough that straight lines
are far from shortest) maps a 2-D stimulus space to 5 responses. The figure shows the
log volume element on a grid, the geodesics between three pairs of stimuli (solid; the
straight segments dashed) and, with Gaussian response noise of standard deviation
``--sigma``, the threshold ellipses: the just-discriminable steps (d′ = 1) in every
direction. Geodesics bend towards where the representation magnifies least; ellipses are
small where it magnifies most.

Run: ``python examples/geodesics_2d.py [--out geodesics_2d.png]``
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

import neurogeom as ng
from neurogeom.plot import geodesic_paths, threshold_ellipses, volume_map

parser = argparse.ArgumentParser()
parser.add_argument("--resolution", type=int, default=60)
parser.add_argument("--sigma", type=float, default=0.05)
parser.add_argument("--out", default="geodesics_2d.png")
args = parser.parse_args()

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
    torch.nn.Linear(16, 5),
).double()  # fmt: skip
with torch.no_grad():
    for layer in net[::2]:
        layer.weight.mul_(3.0)
rm = ng.TorchResponseMap(net, dtype=torch.float64)

grid = ng.Grid([(-1.5, 1.5), (-1.5, 1.5)], resolution=args.resolution)
ds = ng.geometry(rm, grid)
a = np.array([[-1.2, -1.2], [-1.2, 1.2], [0.0, -1.3]])
b = np.array([[1.2, 1.2], [1.2, -1.2], [0.0, 1.3]])
paths = ng.geodesic(rm, a, b)
print("geodesic ÷ straight length:", np.round(paths.length / paths.straight_length, 3).values)

side = np.linspace(-1.2, 1.2, 5)
centers = np.array([(u, v) for u in side for v in side])
noise = args.sigma**2 * np.eye(5)
thresholds = ng.discrimination_thresholds(rm, centers, noise=noise)

fig, ax = plt.subplots(figsize=(5.4, 4.6), constrained_layout=True)
volume_map(ds, ax=ax, boundary=False)
geodesic_paths(paths, ax=ax)
threshold_ellipses(thresholds, centers, ax=ax, color="cyan")
ax.set_title(f"geodesics and d′ = 1 ellipses (σ = {args.sigma})")
fig.savefig(args.out, dpi=100)
print("wrote", args.out)
