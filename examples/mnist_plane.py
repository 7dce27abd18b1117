"""Fig. 2 (bottom) with the library API: the plane through a 7, a 6 and a 1.

    python examples/mnist_plane.py [--data MNIST_DIR] [--out DIR] [--quick]

The command-line equivalent is ``neurogeom run mnist-plane [--data MNIST_DIR]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from neurogeom import plot
from neurogeom.dataset import save
from neurogeom.experiments import mnist
from neurogeom.experiments.claims import claim_table

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default=None, help="MNIST directory (default: 8x8 digits)")
parser.add_argument("--out", type=Path, default=Path("."))
parser.add_argument("--quick", action="store_true", help="tiny settings (seconds)")
args = parser.parse_args()

quick = {"epochs": 3, "snapshot_epochs": [3], "seeds": [0], "width": 128, "resolution": 12}
ds = mnist.run_plane({**(quick if args.quick else {})}, data=args.data)  # bars in a terminal
args.out.mkdir(parents=True, exist_ok=True)
save(ds, args.out / "mnist-plane.nc")
print(claim_table(ds, by=("epoch", "space")))
fig = plot.plane_panels(ds)  # prediction, log10 entropy, log10 volume (slice metric)
fig.savefig(args.out / "mnist_plane.png", dpi=100)
fig, ax = plt.subplots(figsize=(4.5, 3.8), constrained_layout=True)
plot.ternary_plot(ds, ax, space="full")  # inside the triangle of the three digits only
fig.savefig(args.out / "mnist_plane_ternary.png", dpi=100)
print(f"wrote mnist-plane.nc, mnist_plane.png and mnist_plane_ternary.png in {args.out}")
