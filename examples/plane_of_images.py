"""Volume element of a small conv net on the plane through three digit images.

Uses scikit-learn's bundled 8×8 digits (real images, offline). Run:
python examples/plane_of_images.py [--out plane.png]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits

import neurogeom as ng
from neurogeom.plot import volume_map

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="plane_of_images.png")
parser.add_argument("--resolution", type=int, default=40)
args = parser.parse_args()

digits = load_digits()
images = digits.images[:, None] / 16.0  # (N, 1, 8, 8) in [0, 1]
pick = [list(digits.target).index(k) for k in (7, 6, 1)]
a, b, c = images[pick]

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1),
    torch.nn.GELU(),
    torch.nn.Flatten(),
    torch.nn.Linear(8 * 64, 10),
)
rm = ng.TorchResponseMap(net, layers="1", dtype=torch.float64)
plane = ng.Plane(a, b, c, resolution=args.resolution)
ds = ng.geometry(rm, plane, classifier=net)  # metric induced on the plane (2 JVPs/point)
print(ds)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
volume_map(ds, ax=axes[0], boundary=False)
axes[0].set_title("log10 volume element on the plane")
ds.prediction.T.plot(ax=axes[1], cmap="tab10", vmin=0, vmax=9)
axes[1].set_title("predicted class (untrained net)")
fig.savefig(args.out, dpi=100)
print("wrote", args.out)
