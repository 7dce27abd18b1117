"""Fig. 2 (top) with the library API: volume element along the line from a 7 to a 6.

Uses scikit-learn's 8×8 digits unless a directory with the MNIST IDX files is given:

    python examples/mnist_line.py [--data MNIST_DIR] [--out DIR] [--quick]

The command-line equivalent is ``neurogeom run mnist-line [--data MNIST_DIR]``.
"""

from __future__ import annotations

import argparse
import json
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

quick = {"epochs": 3, "snapshot_epochs": [0, 3], "seeds": [0, 1], "width": 128}
ds = mnist.run_line({**(quick if args.quick else {})}, data=args.data)  # bars in a terminal
args.out.mkdir(parents=True, exist_ok=True)
save(ds, args.out / "mnist-line.nc")
print(claim_table(ds, by=("epoch", "space")))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
# entropy=True draws the prediction entropy (dashed) next to the volume element
plot.line_plot(ds, axes[0], space="slice", entropy=True)  # metric induced on the line
plot.line_plot(ds, axes[1], space="full", entropy=True)  # top-k pseudo-determinant, full space
source = "MNIST" if ds.attrs["image_shape"].tolist() == [28, 28] else "8x8 digits (MNIST stand-in)"
fig.suptitle(f"{source}, width {json.loads(ds.attrs['config'])['width']}, seed 0", fontsize=10)
fig.savefig(args.out / "mnist_line.png", dpi=100)
print(f"wrote {args.out / 'mnist-line.nc'} and {args.out / 'mnist_line.png'}")
