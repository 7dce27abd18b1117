"""Ricci scalar and volume element of a shallow net trained on the sinusoid task.

Trains ``ShallowNet(2, 25)`` (sigmoid) for a few seconds with plain torch on
``neurogeom.data.toy.sinusoid_task``, then measures on a grid over [-1, 1]²:

- the log volume element ½ log det g of the hidden layer (closed form, Cauchy–Binet),
- the Ricci scalar R of the same metric by the generic autograd path
  (``neurogeom.scalar_curvature``), checked against the closed form.

Saves ``docs/images/curvature_shallow.png``. Run from the repository root:
``python examples/curvature_shallow.py [--out PATH] [--steps 3000]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import SymLogNorm

import neurogeom as ng
from neurogeom.data.toy import sinusoid_boundary, sinusoid_task
from neurogeom.models import ShallowNet
from neurogeom.riemann import shallow_log_volume, shallow_parameters, shallow_ricci_scalar
from neurogeom.slices import Grid


def train(steps: int, seed: int = 0) -> tuple[ShallowNet, float]:
    """Full-batch Adam on 400 points; returns the net and its training accuracy."""
    torch.manual_seed(seed)
    X, y = sinusoid_task(400, seed=seed)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    net = ShallowNet(2, 25, activation="sigmoid")
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(Xt), yt)
        loss.backward()
        opt.step()
    with torch.no_grad():
        accuracy = float((net(Xt).argmax(1) == yt).float().mean())
    return net, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/curvature_shallow.png")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--res", type=int, default=121)
    args = parser.parse_args()

    net, accuracy = train(args.steps)
    print(f"training accuracy {accuracy:.3f}")
    u = np.linspace(-1.0, 1.0, args.res)
    grid = Grid([(-1, 1), (-1, 1)], resolution=args.res)
    rm = ng.TorchResponseMap(net, layers=net.feature_layer)

    ricci = ng.scalar_curvature(rm, grid)  # generic path, float64
    params = shallow_parameters(net)
    closed = shallow_ricci_scalar(grid.points, *params)
    logvol = shallow_log_volume(grid.points, *params)
    rel = np.max(np.abs(ricci - closed) / np.abs(closed))
    print(f"Ricci scalar: autograd vs closed form, max relative difference {rel:.1e}")
    print(f"R in [{ricci.min():.3g}, {ricci.max():.3g}]")
    print(f"log volume in [{logvol.min():.3g}, {logvol.max():.3g}]")

    shape = grid.shape
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3), constrained_layout=True)
    extent = (-1, 1, -1, 1)
    im0 = axes[0].imshow(logvol.reshape(shape).T, origin="lower", extent=extent, cmap="viridis")
    fig.colorbar(im0, ax=axes[0], label=r"$\log\sqrt{\det g}$")
    axes[0].set_title("volume element (hidden layer)")
    # R spans many decades (it grows like 1/λ_min where the metric nearly degenerates):
    # a symmetric log scale, linear within |R| < 1, saturating at the 99th percentile
    lim = float(np.percentile(np.abs(ricci), 99))
    norm = SymLogNorm(linthresh=1.0, vmin=-lim, vmax=lim)
    im1 = axes[1].imshow(
        ricci.reshape(shape).T, origin="lower", extent=extent, cmap="RdBu_r", norm=norm
    )
    fig.colorbar(im1, ax=axes[1], extend="both", label="Ricci scalar $R$ (symlog)")
    axes[1].set_title("Ricci scalar (hidden layer)")
    X, y = sinusoid_task(400, seed=0)
    for ax in axes:
        ax.plot(u, sinusoid_boundary(u), color="k", lw=1.2, ls="--", label="task boundary")
        ax.scatter(*X[y == 1].T, s=3, c="w", edgecolors="none", alpha=0.6)
        ax.scatter(*X[y == 0].T, s=3, c="k", edgecolors="none", alpha=0.6)
        ax.set(xlabel="$x_1$", ylabel="$x_2$", xlim=(-1, 1), ylim=(-1, 1))
    axes[0].legend(loc="lower left", fontsize=8)
    fig.suptitle(f"ShallowNet(2, 25), sigmoid, sinusoid task (train acc. {accuracy:.2f})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"saved {out} ({out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
