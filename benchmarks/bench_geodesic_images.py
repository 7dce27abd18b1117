"""Geodesics between images through a CIFAR ResNet-18 stage: the response-space energy.

Two real 3 × 32 × 32 images (scikit-learn's bundled 8 × 8 digits, upsampled bilinearly and
repeated over three channels: no download) are joined by a ``--nodes``-step geodesic
(default 64) of the metric that a ResNet-18 stage (``--layer``, default ``stage1``:
64 × 32 × 32 responses; random initialisation, seeded, eval mode) induces on image space
(d = 3072), by ``ng.geodesic``'s ``method="energy"``: L-BFGS on the discrete energy
``N Σ‖r(x_{i+1}) − r(x_i)‖²`` with one forward and one backward pass per evaluation,
refined from 8 steps by doubling. Printed, from one run: the time, its ratio to one energy
evaluation at the final resolution (the baseline, measured in the same run), the length
against the straight segment's, the energy decrease, convergence and iterations.

Run: ``python benchmarks/bench_geodesic_images.py [--layer stage1] [--max-iter 15]
[--device cuda]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

import neurogeom as ng
from neurogeom.models.resnet import ResNet


def images(indices: tuple[int, int]) -> np.ndarray:
    """Two digits as 3 × 32 × 32 images in [0, 1]."""
    digits = torch.tensor(load_digits().images[list(indices)] / 16.0, dtype=torch.float32)
    big = torch.nn.functional.interpolate(digits[:, None], size=(32, 32), mode="bilinear")
    return big.expand(-1, 3, -1, -1).numpy().astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", default="stage1")
    parser.add_argument("--nodes", type=int, default=64)
    parser.add_argument("--max-iter", type=int, default=15, help="L-BFGS iterations per level")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--pairs", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(0)
    net = ResNet(18).eval().to(args.device)
    rm = ng.TorchResponseMap(net, layers=args.layer, device=args.device)
    x = images(tuple(range(2 * args.pairs)))
    a, b = x[0::2], x[1::2]
    line = (
        a[:, None] + np.linspace(0, 1, args.nodes + 1)[None, :, None, None, None] * (b - a)[:, None]
    )
    flat = line.reshape(-1, *a.shape[1:])
    rm.layer_vjp(flat[:2])  # warm up
    t = time.perf_counter()
    r, pullback = rm.layer_vjp(flat)[args.layer]
    pullback(np.ones_like(r))
    if args.device != "cpu":
        torch.cuda.synchronize()
    one = time.perf_counter() - t
    t = time.perf_counter()
    ds = ng.geodesic(rm, a, b, nodes=args.nodes, max_iter=args.max_iter)
    elapsed = time.perf_counter() - t
    name = torch.cuda.get_device_name() if args.device != "cpu" else "CPU"
    print(f"ResNet-18 {args.layer} ({r.shape[1]} responses), {len(a)} pair(s), {name}")
    print("| quantity | value |\n|---|---|")
    print(f"| nodes (steps) | {args.nodes} |")
    print(f"| time | {elapsed:.1f} s |")
    print(f"| one energy evaluation at {args.nodes} steps (baseline) | {one:.2f} s |")
    print(f"| time ÷ baseline | {elapsed / one:.1f} |")
    for i in range(len(a)):
        L, L0 = float(ds.length[i]), float(ds.straight_length[i])
        E, E0 = float(ds.energy[i]), float(ds.straight_energy[i])
        print(f"| pair {i}: length ÷ straight segment's | {L / L0:.4f} ({L:.4g} vs {L0:.4g}) |")
        print(f"| pair {i}: energy decrease 1 − E/E_straight | {1 - E / E0:.4f} |")
        print(
            f"| pair {i}: converged, residual, iterations | {bool(ds.converged[i])}, "
            f"{float(ds.residual[i]):.2g}, {int(ds.iterations[i])} |"
        )


if __name__ == "__main__":
    main()
