"""Fig. 1 with the library API: shallow sigmoid nets on the sinusoid task.

Trains 2 → n → 2 nets (n = 5, 25, 200), measures the volume element of the hidden layer on
an 80×80 grid at the start, middle and end of training (autograd and closed form), and
reports how strongly it concentrates near the decision boundary.

    python examples/shallow_toy.py [--out DIR] [--quick]

The command-line equivalent is ``neurogeom run toy``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from neurogeom import plot
from neurogeom.dataset import save
from neurogeom.experiments import toy
from neurogeom.experiments.claims import claim_table

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", type=Path, default=Path("."))
parser.add_argument("--quick", action="store_true", help="tiny settings (seconds)")
args = parser.parse_args()

quick = {"widths": [5, 25], "epochs": 20, "seeds": [0, 1], "grid_resolution": 20}
ds = toy.run_toy(quick if args.quick else {})  # progress bars show in a terminal
args.out.mkdir(parents=True, exist_ok=True)
save(ds, args.out / "toy.nc")  # every setting is in ds.attrs["config"]
print(claim_table(ds, by=("width", "epoch")))
fig = plot.volume_panels(ds, variable="log_volume_element_closed_form")
fig.savefig(args.out / "fig1_volume.png", dpi=100)
print(f"wrote {args.out / 'toy.nc'} and {args.out / 'fig1_volume.png'}")
