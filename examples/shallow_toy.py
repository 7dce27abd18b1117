"""Fig. 1 with the library API: shallow sigmoid nets on the sinusoid task.

Trains 2 → n → 2 nets (n = 5, 25, 200), measures the volume element of the hidden layer on
an 80×80 grid at the start, middle and end of training (autograd and closed form), and
reports how strongly it concentrates near the decision boundary.

Run: python examples/shallow_toy.py [--quick]
(the CLI equivalent is `neurogeom run toy`).
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

from neurogeom import plot
from neurogeom.dataset import save
from neurogeom.experiments import toy
from neurogeom.experiments.claims import claim_table

quick = "--quick" in sys.argv
config = {"epochs": 200, "seeds": [0], "grid_resolution": 40} if quick else {}
ds = toy.run(config)  # every setting is recorded in ds.attrs["config"]
save(ds, "toy.nc")
print(claim_table(ds, by=("width", "epoch")))
fig = plot.volume_panels(ds, variable="log_volume_element_closed_form")
fig.savefig("fig1_volume.png", dpi=100)
print("wrote toy.nc and fig1_volume.png")
