"""Geometry on a line of stimuli as a labelled xarray Dataset, saved and read back.

Run: python examples/datasets_and_files.py [--out line.nc]
"""

import argparse
import json

import numpy as np
import torch

import neurogeom as ng
from neurogeom.models import ShallowNet

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="line.nc")
args = parser.parse_args()

torch.manual_seed(0)
net = ShallowNet(2, (25, 25))  # two hidden layers: hidden0, hidden1
rm = ng.TorchResponseMap(net, layers=net.hidden_layers, dtype=torch.float64)
line = ng.Line(np.array([-1.0, -1.0]), np.array([1.0, 1.0]), steps=50)

ds = ng.geometry(rm, line, classifier=net, scale="width", config={"note": "example"})
print(ds.log_volume_element.sel(layer="hidden1").values[:5])
print("recorded settings:", json.loads(ds.attrs["config"]))

ng.save(ds, args.out)
assert ng.load(args.out).identical(ds)
print("wrote and re-read", args.out)
