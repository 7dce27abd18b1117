"""Second-order geometry: speed of extrinsic curvature, accuracy of estimates from trials.

Part 1 (speed). A 40x40 grid of a width-200 shallow net (2-D input, float64 curvature):
``ng.scalar_curvature`` alone against ``ng.extrinsic_curvature`` (mean-curvature vector and
norm, principal curvatures and the second fundamental form) and ``ng.geometry(...,
curvature=True)`` (intrinsic and extrinsic from one jet per block). Each ratio is to the
Ricci scalar alone, measured in the same run.

Part 2 (accuracy). Simulated populations whose mean rates lie on a scaled copy of a sphere
(``AffineSurface("sphere", 24, gain=10, baseline=20)``, chart patch
θ ∈ [0.5, 2.6], φ ∈ [0, 3]; true R = 2/gain² = 0.02, |H| = 1/gain = 0.1) and a ring
(``AffineSurface("circle", 16, gain=10, baseline=20)``: |H| = 0.1), Poisson trials, a local
quadratic at a fixed bandwidth (or ``"cv"``: leave-one-out cross-validation of the rates),
or ``"quartic"``: the ``local_quartic`` estimator with its defaults (degree 4, bandwidth by
cross-validation of that fit),
bias-corrected jet Gram matrices. For each number of
conditions and trials: median relative error of R and |H| at 25 interior points (the
sphere) or 12 points (the ring), and the coverage of the 95% bootstrap intervals (40
resamples), over ``--replicates`` simulated data sets; the naive plug-in (no correction)
for comparison.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_second_order.py [--quick]``.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import best_time

import neurogeom as ng
from neurogeom import simulate
from neurogeom.models import ShallowNet

SPHERE_BOUNDS = [[0.5, 2.6], [0.0, 3.0]]


def speed(width: int, res: int, repeats: int) -> None:
    u = np.linspace(-1.5, 1.5, res)
    grid = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    torch.manual_seed(0)
    rm = ng.TorchResponseMap(ShallowNet(2, width, activation="tanh"), "hidden0")
    plain = ng.Points(grid)
    rows = [
        ("ng.scalar_curvature (Ricci scalar alone)", lambda: ng.scalar_curvature(rm, grid)),
        ("ng.extrinsic_curvature (II, H, |H|, kappa)", lambda: ng.extrinsic_curvature(rm, grid)),
        (
            "ng.mean_curvature + ng.principal_curvatures",
            lambda: (ng.mean_curvature(rm, grid, norm=True), ng.principal_curvatures(rm, grid)),
        ),
        (
            "ng.geometry(curvature=True) (all, one jet)",
            lambda: ng.geometry(rm, plain, curvature=True),
        ),
        ("ng.geometry (metric only)", lambda: ng.geometry(rm, plain)),
    ]
    times = [(name, best_time(fn, repeats)) for name, fn in rows]
    base = times[0][1]
    print(f"\nSpeed: {res}x{res} grid, shallow tanh net of width {width}, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip
    print(f"{'computation':<48}{'seconds':>10}{'x Ricci alone':>16}")
    for name, t in times:
        print(f"{name:<48}{t:>10.3f}{t / base:>16.2f}")


def _estimator(h: float | str, extra: dict) -> tuple[str, dict]:
    """``"quartic"``: local_quartic with its own defaults; else local_quadratic at ``h``."""
    if h == "quartic":
        return "local_quartic", extra
    return "local_quadratic", {"bandwidth": h, **extra}


def _sphere_case(P: int, T: int, h: float | str, seed: int, B: int, correction: str | None):
    pop = simulate.AffineSurface("sphere", 24, gain=10.0, baseline=20.0, bounds=SPHERE_BOUNDS)
    X = pop.uniform_stimuli(P, random_state=seed)
    R = pop.sample(X, T, noise="poisson", random_state=1000 + seed)
    q = np.array(np.meshgrid(np.linspace(1.0, 2.1, 5), np.linspace(0.6, 2.4, 5)))
    q = q.reshape(2, -1).T
    name, params = _estimator(h, {})
    rm = ng.SampledResponseMap(
        X, R, name, correction=correction, estimator_params=params, n_bootstrap=B
    )
    return rm, q, 0.02, 0.1


def _ring_case(P: int, T: int, h: float | str, seed: int, B: int, correction: str | None):
    pop = simulate.AffineSurface("circle", 16, gain=10.0, baseline=20.0)
    X = pop.uniform_stimuli(P, random_state=seed)
    R = pop.sample(X, T, noise="poisson", random_state=1000 + seed)
    q = np.linspace(0.0, 2 * np.pi, 12, endpoint=False)[:, None]
    name, params = _estimator(h, {"period": 2 * np.pi})
    rm = ng.SampledResponseMap(
        X, R, name, correction=correction, estimator_params=params, n_bootstrap=B
    )
    return rm, q, 0.0, 0.1


def accuracy(name, case, settings, replicates: int, B: int) -> None:
    print(f"\nAccuracy: {name} (median over {replicates} data sets; 95% intervals, B = {B})")
    print(
        f"{'conditions':>10}{'trials':>7}{'h':>6}{'R err':>9}{'R cover':>9}"
        f"{'|H| err':>9}{'|H| cover':>10}{'|H| err naive':>15}{'unident.':>10}"
    )
    for P, T, h in settings:
        r_err, h_err, h_naive, r_cov, h_cov, unid = [], [], [], [], [], []
        for seed in range(replicates):
            rm, q, R_true, H_true = case(P, T, h, seed, B, "analytic")
            R = ng.scalar_curvature(rm, q, on_singular="nan")
            H = ng.mean_curvature(rm, q, norm=True, on_singular="nan")
            ci = ng.curvature_intervals(rm, q)
            naive, *_ = case(P, T, h, seed, 0, None)
            Hn = ng.mean_curvature(naive, q, norm=True, on_singular="nan")
            if R_true:
                r_err.append(np.nanmedian(np.abs(R / R_true - 1)))
                lo, hi = ci["ricci_scalar_ci_low"], ci["ricci_scalar_ci_high"]
                r_cov.append(np.mean((lo <= R_true) & (R_true <= hi)))
            h_err.append(np.nanmedian(np.abs(H / H_true - 1)))
            h_naive.append(np.nanmedian(np.abs(Hn / H_true - 1)))
            lo, hi = ci["mean_curvature_norm_ci_low"], ci["mean_curvature_norm_ci_high"]
            h_cov.append(np.mean((lo <= H_true) & (H_true <= hi)))
            unid.append(np.mean(np.isnan(H)))
        rerr = f"{np.median(r_err):9.3f}" if r_err else f"{'(R=0)':>9}"
        rcov = f"{np.mean(r_cov):9.2f}" if r_cov else f"{'':>9}"
        print(
            f"{P:>10}{T:>7}{h if isinstance(h, str) else f'{h:.2f}':>6}{rerr}{rcov}{np.median(h_err):9.3f}{np.mean(h_cov):10.2f}"
            f"{np.median(h_naive):15.3f}{np.mean(unid):10.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=200)
    parser.add_argument("--res", type=int, default=40)
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer settings and repeats")
    args = parser.parse_args()
    speed(args.width, args.res, 1 if args.quick else 3)
    sphere = [(700, 10, 0.4)] if args.quick else [
        (350, 10, 0.45), (700, 5, 0.45), (700, 10, 0.4), (700, 20, 0.35),
        (1400, 10, 0.35), (2800, 10, 0.3), (700, 10, "cv"),
        (350, 10, "quartic"), (700, 10, "quartic"), (1400, 10, "quartic"),
    ]  # fmt: skip
    ring = [(600, 20, 0.3)] if args.quick else [
        (300, 10, 0.5), (600, 20, 0.3), (1200, 20, 0.25), (600, 20, "quartic"),
    ]  # fmt: skip
    reps = 2 if args.quick else args.replicates
    accuracy("sphere, 24 neurons", _sphere_case, sphere, reps, 40)
    accuracy("ring, 16 neurons", _ring_case, ring, reps, 40)


if __name__ == "__main__":
    main()
