"""The recording user study of issue 12: defaults on simulated populations, scored against truth.

A lab's design — 60 V1-like cells (von Mises orientation tuning with period π × Naka–Rushton
contrast response, :class:`neurogeom.simulate.OrientationContrast`), Poisson counts, 20
orientations × 20 contrasts × 5 repetitions — and two designs the defaults were not tuned
on: a Poisson von Mises ring (1-D, 24 orientations of period 2π × 8 repetitions) and 3-D
place fields (6³ product grid × 4 repetitions). For each estimator with its defaults (only
the period declared) the script measures, on a query grid inside the sampled region:

- ``nan``: fraction of query points without a finite log √det g;
- ``err_g`` / ``err_fisher``: median relative Frobenius error of the pullback metric and of
  the Poisson Fisher metric against the exact ones;
- ``spearman``: rank correlation of the estimated log-volume with the true one;
- ``bounded`` / ``coverage``: fraction of nominal 95% bootstrap intervals of log √det g
  with a finite lower end, and fraction covering the *true* value;
- ``time``: seconds for the map, the metric and 200 bootstrap resamples (pullback run).

Run ``python benchmarks/bench_recordings.py [--designs oc,ring,place3d] [--estimators ...]``;
it prints one markdown table per design (the tables of docs/estimating.md).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
from scipy.stats import spearmanr

import neurogeom as ng
from neurogeom import simulate


def design(name: str, seed: int) -> dict[str, Any]:
    """Population, stimuli, trials, query points and period of one simulated design."""
    rng = np.random.default_rng(seed)
    if name == "oc":
        pop = simulate.OrientationContrast(60, random_state=seed)
        th = np.arange(20) * np.pi / 20
        c = np.linspace(0.05, 1.0, 20)
        X = np.array([(a, b) for a in th for b in c])
        reps = 5
        q = np.array(
            [
                (a, b)
                for a in np.linspace(0, np.pi, 12, endpoint=False)
                for b in np.linspace(0.1, 0.95, 12)
            ]
        )
        period: Any = [np.pi, None]
    elif name == "ring":
        pop = simulate.VonMisesRing(24, amplitude=10.0, kappa=2.0, baseline=0.5)
        X = (np.arange(24) * 2 * np.pi / 24)[:, None]
        reps = 8
        q = np.linspace(0, 2 * np.pi, 40, endpoint=False)[:, None]
        period = [2 * np.pi]
    elif name == "place3d":
        pop = simulate.PlaceFields.lattice(3, 0.25, (0.0, 1.0), 0.3, amplitude=8.0, baseline=0.5)
        ax = np.linspace(0.0, 1.0, 6)
        X = np.array(np.meshgrid(ax, ax, ax, indexing="ij")).reshape(3, -1).T
        reps = 4
        qa = np.linspace(0.2, 0.8, 5)
        q = np.array(np.meshgrid(qa, qa, qa, indexing="ij")).reshape(3, -1).T
        period = None
    else:
        raise SystemExit(f"unknown design {name!r}")
    R = pop.sample(X, reps, noise="poisson", random_state=rng)
    return {"pop": pop, "X": X, "R": R, "q": q, "period": period}


def log_volume(g: np.ndarray) -> np.ndarray:
    """½ log det g per point, NaN where g is not positive definite or not finite."""
    out = np.full(len(g), np.nan)
    ok = np.isfinite(g).all((1, 2))
    ev = np.full((len(g), g.shape[-1]), np.nan)
    ev[ok] = np.linalg.eigvalsh(g[ok])
    pd = ok & (ev > 0).all(1)
    out[pd] = 0.5 * np.log(ev[pd]).sum(1)
    return out


def rel_err(g: np.ndarray, truth: np.ndarray) -> float:
    ok = np.isfinite(g).all((1, 2))
    e = np.linalg.norm(g[ok] - truth[ok], axis=(1, 2)) / np.linalg.norm(truth[ok], axis=(1, 2))
    return float(np.median(e)) if ok.any() else np.nan


def run(
    est: str, d: dict[str, Any], n_bootstrap: int, extra: dict[str, Any] | None = None
) -> dict[str, float]:
    params: dict[str, Any] = dict(extra or {})
    if d["period"] is not None and (est.startswith("local") or est == "gaussian_process"):
        params["period"] = d["period"]
    kw: dict[str, Any] = {"on_invalid": "flag", "estimator_params": params}
    if est == "spline2d":
        kw["correction"] = "crossfit"
    pop, q = d["pop"], d["q"]
    t0 = time.perf_counter()
    rm = ng.SampledResponseMap(d["X"], d["R"], est, n_bootstrap=n_bootstrap, **kw)
    g = rm.layer_metrics(q)["responses"]
    ci = rm.confidence_intervals(q) if n_bootstrap else None
    elapsed = time.perf_counter() - t0
    fisher = ng.SampledResponseMap(d["X"], d["R"], est, noise="poisson", **kw)
    gf = fisher.layer_metrics(q)["responses"]
    truth = pop.metric(q)
    lv, lv_true = log_volume(g), log_volume(truth)
    ok = np.isfinite(lv)
    out = {
        "nan": float(1 - ok.mean()),
        "err_g": rel_err(g, truth),
        "err_fisher": rel_err(gf, pop.fisher_information(q)),
        "spearman": float(spearmanr(lv[ok], lv_true[ok])[0]) if ok.sum() > 2 else np.nan,
        "time": elapsed,
    }
    if ci is not None:
        lo, hi = ci["log_volume_element_ci_low"], ci["log_volume_element_ci_high"]
        out["bounded"] = float(np.isfinite(lo).mean())
        out["coverage"] = float(((lo <= lv_true) & (lv_true <= hi)).mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", default="oc,ring,place3d")
    parser.add_argument(
        "--estimators",
        default="local_linear,local_quadratic,gaussian_process,spline,spline2d",
    )
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--per-seed", action="store_true", help="also print each seed's row")
    parser.add_argument(
        "--params",
        default="{}",
        help='estimator parameters as JSON, e.g. {"bias_correction": false}',
    )
    args = parser.parse_args()
    cols = ["nan", "err_g", "err_fisher", "spearman", "bounded", "coverage", "time"]
    for name in args.designs.split(","):
        print(f"\n### design {name}\n")
        print("| estimator | " + " | ".join(cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        for est in args.estimators.split(","):
            if (est == "spline" and name != "ring") or (est == "spline2d" and name != "oc"):
                continue  # 1-D smoothing spline; bicubic spline on a full 2-D grid
            rows = []
            for seed in range(args.seeds):
                try:
                    extra = json.loads(args.params)
                    rows.append(run(est, design(name, seed), args.n_bootstrap, extra))
                except Exception as err:  # the baseline raised raw scipy errors too
                    print(f"| {est} | error: {type(err).__name__}: {str(err)[:80]} |")
                    break
            if rows and args.per_seed:
                for seed, r in enumerate(rows):
                    cells = " | ".join(f"{r.get(c, np.nan):.3g}" for c in cols)
                    print(f"| {est} (seed {seed}) | {cells} |", flush=True)
            if rows:
                mean = {c: np.mean([r.get(c, np.nan) for r in rows]) for c in cols}
                print(f"| {est} | " + " | ".join(f"{mean[c]:.3g}" for c in cols) + " |", flush=True)


if __name__ == "__main__":
    main()
