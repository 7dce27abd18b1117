"""Geodesic distances: accuracy and time of ``ng.geodesic`` against scipy's ``solve_bvp``.

Two problems, in one run (float64, CPU):

- a sphere of radius 3 in the chart (θ, φ), ``--pairs`` random pairs in one call, against
  the great-circle distance 3·arccos(p̂·q̂); the peer is ``scipy.integrate.solve_bvp`` on
  the closed-form Christoffel symbols, one pair at a time (a subset of ``--peer-pairs``);
- a 2-16-16-5 tanh MLP (the test suite's, weights of gain 3) between two points joined by
  two geodesics; the peer is ``solve_bvp`` on Christoffel symbols from torch derivatives of
  the metric field, from two bent initial paths (``--mlp-peer``; about a minute).

geomstats and stochman (the issue's other peers) are not installed in this environment;
their numbers in docs/geodesics.md are the issue's, not measured here.

Run: ``python benchmarks/bench_geodesic.py [--pairs 128] [--peer-pairs 8] [--mlp-peer]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.integrate import quad, solve_bvp

import neurogeom as ng

RADIUS = 3.0


def sphere(x: torch.Tensor) -> torch.Tensor:
    th, ph = x[:, 0], x[:, 1]
    return RADIUS * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)


def unit(x: np.ndarray) -> np.ndarray:
    th, ph = x[:, 0], x[:, 1]
    return np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], 1)


def scipy_sphere(a: np.ndarray, b: np.ndarray) -> float:
    """solve_bvp on the sphere's closed-form Christoffel symbols; length by quadrature."""

    def rhs(t: np.ndarray, y: np.ndarray) -> np.ndarray:
        th, dth, dph = y[0], y[2], y[3]
        return np.vstack(
            [dth, dph, np.sin(th) * np.cos(th) * dph**2, -2 * np.cos(th) / np.sin(th) * dth * dph]
        )

    t = np.linspace(0, 1, 21)
    y0 = np.vstack([a[:, None] + t * (b - a)[:, None], np.repeat((b - a)[:, None], len(t), 1)])
    sol = solve_bvp(rhs, lambda ya, yb: np.r_[ya[:2] - a, yb[:2] - b], t, y0, tol=1e-10)

    def speed(s: float) -> float:
        y = sol.sol(s)
        return RADIUS * float(np.sqrt(y[2] ** 2 + np.sin(y[0]) ** 2 * y[3] ** 2))

    return quad(speed, 0, 1, epsabs=1e-14, epsrel=1e-13, limit=200)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=128)
    parser.add_argument("--peer-pairs", type=int, default=8)
    parser.add_argument("--mlp-peer", action="store_true")
    args = parser.parse_args()
    print(f"torch threads {torch.get_num_threads()}")
    rng = np.random.default_rng(0)
    p = args.pairs
    a = np.stack([rng.uniform(np.pi / 4, 3 * np.pi / 4, p), rng.uniform(-1, 1, p)], 1)
    b = np.stack([rng.uniform(np.pi / 4, 3 * np.pi / 4, p), rng.uniform(-1, 1, p)], 1)
    exact = RADIUS * np.arccos(np.clip((unit(a) * unit(b)).sum(1), -1, 1))
    rm = ng.TorchResponseMap(sphere, dtype=torch.float64)
    ng.geodesic(rm, a[:2], b[:2])  # warm-up
    t0 = time.perf_counter()
    ds1 = ng.geodesic(rm, a, b, starts=1)
    t_ng1 = time.perf_counter() - t0
    err_ng1 = np.abs(ds1.length.values / exact - 1).max()
    t0 = time.perf_counter()
    ds = ng.geodesic(rm, a, b)
    t_ng = time.perf_counter() - t0
    err_ng = np.abs(ds.length.values / exact - 1).max()
    q = args.peer_pairs
    t0 = time.perf_counter()
    peer = np.array([scipy_sphere(a[i], b[i]) for i in range(q)])
    t_sp = time.perf_counter() - t0
    err_sp = np.abs(peer / exact[:q] - 1).max()
    print(f"\nsphere r = {RADIUS}: {p} pairs (ng, one call), {q} pairs (scipy, a loop)")
    print(f"{'method':<44}{'max rel. error':>16}{'ms / pair':>12}{'converged':>11}")
    print(f"{'ng.geodesic, starts=1':<44}{err_ng1:>16.2e}{1e3 * t_ng1 / p:>12.2f}"
          f"{int(ds1.converged.sum()):>8}/{p}")  # fmt: skip
    print(f"{'ng.geodesic, starts=3 (default)':<44}{err_ng:>16.2e}{1e3 * t_ng / p:>12.2f}"
          f"{int(ds.converged.sum()):>8}/{p}")  # fmt: skip
    print(f"{'scipy solve_bvp, exact Γ, tol 1e-10':<44}{err_sp:>16.2e}{1e3 * t_sp / q:>12.2f}")
    print(f"per-pair speed-up over scipy: {(t_sp / q) / (t_ng / p):.1f}x")

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_geodesic import MLP_A, MLP_B, _bvp_reference, _mlp

    net = _mlp()
    mm = ng.TorchResponseMap(net, dtype=torch.float64)
    ng.geodesic(mm, MLP_A[None], MLP_B[None])  # warm-up
    t0 = time.perf_counter()
    dm = ng.geodesic(mm, MLP_A[None], MLP_B[None])
    t_m = time.perf_counter() - t0
    cands = np.unique(np.round(dm.candidate_length.values[0], 9))
    print("\ntanh MLP 2-16-16-5, one pair joined by two geodesics")
    print(f"ng.geodesic: length {float(dm.length[0]):.12f} (candidates {cands.tolist()}), "
          f"{t_m:.2f} s, degree {len(dm.t) - 1}, residual {float(dm.residual[0]):.1e}")  # fmt: skip
    if args.mlp_peer:
        t0 = time.perf_counter()
        ref = _bvp_reference(net, MLP_A, MLP_B, bends=(0.5, -0.5))
        t_r = time.perf_counter() - t0
        print(f"scipy solve_bvp (two starts): lengths {[round(r, 12) for r in ref]}, {t_r:.1f} s")
        print(f"ng / scipy minimum - 1 = {float(dm.length[0]) / min(ref) - 1:.2e}; "
              f"speed-up {t_r / t_m:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
