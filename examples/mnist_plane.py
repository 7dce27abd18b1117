"""Fig. 2 (bottom) with the library API: the plane through a 7, a 6 and a 1.

python examples/mnist_plane.py [MNIST_DIR] [--quick]
(the CLI equivalent is `neurogeom run mnist-plane [--data MNIST_DIR]`).
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
config = {"epochs": 5, "snapshot_epochs": [0, 5], "seeds": [0], "resolution": 30} if quick else {}
ds = mnist.run_plane(config, data=args[0] if args else None)
save(ds, "mnist-plane.nc")
print(claim_table(ds, by=("epoch", "space")))
fig = plot.plane_panels(ds)  # prediction, log10 entropy, log10 volume (slice metric)
fig.savefig("mnist_plane.png", dpi=100)
fig, ax = plt.subplots(figsize=(4.5, 3.8), constrained_layout=True)
plot.ternary_plot(ds, ax, space="full")  # inside the triangle of the three digits only
fig.savefig("mnist_plane_ternary.png", dpi=100)
print("wrote mnist-plane.nc, mnist_plane.png and mnist_plane_ternary.png")
