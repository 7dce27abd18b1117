"""Fig. 3 step by step with the library API: train a CIFAR ResNet, measure its checkpoints.

    python examples/deep_plane.py [--data CIFAR_DIR] [--out DIR] [--quick]

Without ``--data`` it uses the labelled synthetic stand-in (not CIFAR-10). The one-command
equivalent is ``neurogeom run cifar-plane``; this script shows the pieces it is made of.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import torch

import neurogeom as ng
from neurogeom import plot
from neurogeom.data.cifar import load_cifar10, normalize, synthetic_cifar10
from neurogeom.dataset import save, stack
from neurogeom.experiments.train_deep import DeepTrainConfig, load_checkpoint, train

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default=None, help="CIFAR-10 folder (default: synthetic)")
parser.add_argument("--out", type=Path, default=Path("."))
parser.add_argument("--quick", action="store_true", help="tiny settings (seconds)")
args = parser.parse_args()

data = load_cifar10(args.data) if args.data else synthetic_cifar10(96 if args.quick else 512)
epochs = 2 if args.quick else 16
config = DeepTrainConfig(
    depth=18, width=1 / 32 if args.quick else 1 / 16, epochs=epochs, batch_size=32,
    lr=0.05, checkpoints=(0, epochs),
)  # fmt: skip
folder = Path(tempfile.mkdtemp())
train(config, data, folder, log=None)

# the plane through the first training images of classes 7, 6 and 1 (normalised)
index = [int((data.labels == c).nonzero()[0]) for c in (7, 6, 1)]
anchors = normalize(data.images[index]).numpy()
plane = ng.Plane(*anchors, resolution=4 if args.quick else 10)

per_epoch = []
for epoch in config.checkpoints:
    net = load_checkpoint(folder / f"epoch_{epoch:04d}.pt").model  # eval mode
    rm = ng.TorchResponseMap(net, "pool", dtype=torch.float64)  # the pooled features
    sliced = ng.geometry(rm, plane, classifier=net)  # metric induced on the plane (k = 2)
    full = ng.geometry(rm, plane, space="full", rank=8, keep_metric=False)  # top-8, d = 3072
    keys = ["log_volume_element", "metric_rank"]
    both = stack([sliced[keys], full[keys]], "space", ["slice", "full"], long_name="metric")
    per_epoch.append(sliced.drop_vars([*keys, "eigenvalues"]).assign(both[keys]))
ds = stack(per_epoch, "epoch", list(config.checkpoints), long_name="training epoch")
ds.attrs["data_source"] = data.source  # "synthetic" unless --data was given

args.out.mkdir(parents=True, exist_ok=True)
save(ds, args.out / "deep_plane.nc")
fig = plot.checkpoint_plane_panels(ds, title=f"ResNet-18, data: {data.source}")
fig.savefig(args.out / "deep_plane.png", dpi=80)
print(f"data: {data.source}; wrote deep_plane.nc and deep_plane.png in {args.out}")
