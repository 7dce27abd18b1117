"""Fig. 2 (top) with the library API: volume element along the line from a 7 to a 6.

Uses scikit-learn's 8×8 digits unless a directory with the MNIST IDX files is given:
python examples/mnist_line.py [MNIST_DIR] [--quick]
(the CLI equivalent is `neurogeom run mnist-line [--data MNIST_DIR]`).
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from neurogeom import plot
from neurogeom.dataset import save
from neurogeom.experiments import mnist
from neurogeom.experiments.claims import claim_table

args = [a for a in sys.argv[1:] if not a.startswith("--")]
quick = "--quick" in sys.argv
config = {"epochs": 5, "snapshot_epochs": [0, 5], "seeds": [0]} if quick else {}
ds = mnist.run_line(config, data=args[0] if args else None)
save(ds, "mnist-line.nc")
print(claim_table(ds, by=("epoch", "space")))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
plot.line_plot(ds, axes[0], space="slice")  # metric induced on the line (1 tangent)
plot.line_plot(ds, axes[1], space="full")  # top-k log pseudo-determinant of the full metric
fig.savefig("mnist_line.png", dpi=100)
print("wrote mnist-line.nc and mnist_line.png")
