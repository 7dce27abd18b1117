"""Speed of exact metrics on the 784 → 2000 sigmoid MLP (and a CIFAR ResNet when available).

Run on demand: ``python benchmarks/bench_jacobian.py [--points 64] [--dtype float32]``.
Everything is measured in one run, on the same random weights, and printed as ms per
point with ratios, so the numbers compare on whatever machine runs it:

(a) the reference way: ``torch.autograd.functional.jacobian`` of the batch-summed layer,
    graph kept (``create_graph=True``), 5 points at a time, then JᵀJ;
(b) neurogeom, full-space metric ``rm.metric(x)``;
(c) neurogeom, the metric induced on a 2-plane ``rm.metric(x, tangents=T)``;
(d) a batched forward pass;
(e) the floor of (b) for the MLP: one batched Gram product Wᵀ·diag(φ′²)·W.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from _timing import best_time, print_table

import neurogeom as ng
from neurogeom.models import ShallowNet


def reference_metric(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The seed code's way: autograd.functional.jacobian of the batch sum, 5 points a time."""
    out = []
    for chunk in x.split(5):
        J = torch.autograd.functional.jacobian(
            lambda z: layer(z).sum(0), chunk, create_graph=True
        )  # (n, 5, d)
        J = J.detach().permute(1, 0, 2)
        out.append(J.mT @ J)
    return torch.cat(out)


def check_close(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    """Assert max |a - b| <= 1e-4 max |b| (float32 rounding of sums over 2000 units)."""
    err = float((a - b).abs().max() / b.abs().max())
    print(f"check {what}: max difference {err:.1e} of the largest entry")
    assert err < 1e-4, what


def mlp_rows(
    points: int, dtype: torch.dtype, device: str, clock: Callable[[], float]
) -> list[tuple[str, float]]:
    torch.manual_seed(0)
    net = ShallowNet(784, 2000, 10).to(device=device, dtype=dtype)
    layer = net.hidden0
    x = torch.rand(points, 784, dtype=dtype, device=device)
    T = torch.linalg.qr(torch.randn(784, 2, dtype=dtype, device=device))[0].mT
    rm = ng.TorchResponseMap(net, "hidden0")
    W, b = layer.linear.weight.detach(), layer.linear.bias.detach()

    def floor() -> torch.Tensor:
        # the fastest exact route: A = diag(|φ'(z)|) W / √n, g = AᵀA (one Gram product)
        s = torch.sigmoid(x @ W.T + b)
        A = W * (s * (1 - s) / 2000**0.5)[:, :, None]
        return A.mT @ A

    # correctness first: all three ways give the same metric
    g = rm.metric(x[:5])
    check_close(g, reference_metric(layer, x[:5]), "full-space vs reference")
    check_close(g, floor()[:5], "full-space vs closed form")
    Tf = T.reshape(2, -1)
    check_close(rm.metric(x[:5], tangents=T), Tf @ g @ Tf.mT, "plane-induced vs T g T^T")

    with torch.no_grad():
        rows = [
            (
                "(a) reference: autograd.functional.jacobian",
                best_time(lambda: reference_metric(layer, x[:10]), 1, clock) / 10,
            ),
            ("(b) neurogeom full-space metric", best_time(lambda: rm.metric(x), 3, clock) / points),
            (
                "(c) neurogeom metric induced on a 2-plane",
                best_time(lambda: rm.metric(x, tangents=T), 3, clock) / points,
            ),
            ("(d) batched forward pass", best_time(lambda: layer(x), 3, clock) / points),
            ("(e) floor: batched Gram W^T diag(phi'^2) W", best_time(floor, 3, clock) / points),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=64)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: process CPU time (use with OMP_NUM_THREADS=1 on a loaded machine)",
    )
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = getattr(torch, args.dtype)
    name = (
        torch.cuda.get_device_name()
        if device == "cuda"
        else f"CPU ({torch.get_num_threads()} threads)"
    )
    print(
        f"device: {name}; torch {torch.__version__}; numpy {np.__version__}; {args.dtype}; {args.clock} clock"
    )
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    rows = mlp_rows(args.points, dtype, device, clock)
    print_table(
        f"784 -> 2000 sigmoid MLP, {args.points} points",
        rows,
        "(d) batched forward pass",
        "(a) reference: autograd.functional.jacobian",
    )
    t = dict(rows)
    full, floor, plane, fwd = (
        t[k]
        for k in (
            "(b) neurogeom full-space metric",
            "(e) floor: batched Gram W^T diag(phi'^2) W",
            "(c) neurogeom metric induced on a 2-plane",
            "(d) batched forward pass",
        )
    )
    ref = t["(a) reference: autograd.functional.jacobian"]
    print(
        f"\nfull-space / floor = {full / floor:.2f} (target <= 2); reference / full-space = {ref / full:.1f} (target >= 1, >= 10 on GPU)"
    )
    print(f"plane-induced / forward = {plane / fwd:.2f} (target <= 6)")


if __name__ == "__main__":
    main()
