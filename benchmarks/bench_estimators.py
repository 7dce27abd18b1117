"""Accuracy and speed of the sampled-data estimators (run on demand).

``python benchmarks/bench_estimators.py [--quick] [--out docs/images/estimator_accuracy.png]``

(a) Accuracy: error of log √det g against the exact metric of a Poisson von Mises ring
    (N = 24, A = 10, κ = 2, T = 4 trials per presentation) as the number of presentations
    grows, for each estimator (bias-corrected), and naive vs analytic vs cross-fitted for
    local linear regression. Saves the figure.
(b) Speed: local-linear metrics for 100 neurons, 4000 samples and 1000 query points
    (2-D place fields), and statsmodels' ``KernelReg`` (local linear, same bandwidth, so
    equal accuracy: the slopes agree to 1e-8) per neuron-query.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
from _timing import best_time

import neurogeom as ng
from neurogeom import simulate as sim

RING = sim.VonMisesRing(24, amplitude=10.0, kappa=2.0)
TRUTH = 0.5 * np.log(sim.von_mises_metric(24, 10.0, 2.0))
QUERY = np.linspace(0.3, 2 * np.pi - 0.3, 20)[:, None]
T = 4


def log_volume_error(g: np.ndarray) -> tuple[np.ndarray, float]:
    """Errors of ½ log g at points with g > 0, and the fraction of points with g <= 0."""
    g = g[:, 0, 0]
    ok = g > 0
    return 0.5 * np.log(g[ok]) - TRUTH, float(1 - ok.mean())


def smoothing_bias(h: float) -> float:
    """Error of log √det g_h: the smoother at bandwidth h applied to noise-free means."""
    X = np.linspace(0, 2 * np.pi, 4000, endpoint=False)[:, None]
    est = ng.get_estimator("local_linear", bandwidth=h, period=2 * np.pi)
    J = est.fit(X, RING.mean(X)).jacobian(QUERY)
    return float(np.mean(0.5 * np.log((J**2).sum(1)[:, 0])) - TRUTH)


def estimate(
    name: str,
    P: int,
    seed: int,
    correction: str | None,
    trials: int = T,
    bandwidth: float | None = None,
) -> np.ndarray:
    period: dict[str, object] = {"period": 2 * np.pi}
    if bandwidth is not None:
        period["bandwidth"] = bandwidth
    if name == "stencil":
        repeats = max(1, P // (2 * len(QUERY)))
        est = ng.get_estimator("stencil", centers=QUERY, step=0.15, repeats=repeats)
        X = est.design()
        R = RING.sample(X, trials, noise="poisson", random_state=seed)
        rm = ng.SampledResponseMap(X, R, est, correction=correction, domain=None)
        return np.asarray(rm.metric(QUERY))
    rng = np.random.default_rng(seed)
    if name == "spline":
        X = np.linspace(0, 2 * np.pi, P, endpoint=False)[:, None]
    else:
        X = rng.uniform(0, 2 * np.pi, (P, 1))
    R = RING.sample(X, trials, noise="poisson", random_state=rng)
    params = period if name.startswith("local") else {}
    rm = ng.SampledResponseMap(X, R, name, estimator_params=params, correction=correction)
    return np.asarray(rm.metric(QUERY))


#: (value, RMSE, mean error, its standard error over seeds, fraction indefinite)
Rows = list[tuple[int, float, float, float, float]]


def sweep(label: str, points: list[int], run, seeds: range) -> Rows:  # type: ignore[no-untyped-def]
    rows = []
    for v in points:
        res = [log_volume_error(run(v, 1000 * v + s)) for s in seeds]
        errs = np.concatenate([r[0] for r in res])
        per_seed = [r[0].mean() for r in res]
        rows.append(
            (
                v,
                float(np.sqrt(np.mean(errs**2))),
                float(errs.mean()),
                float(np.std(per_seed, ddof=1) / np.sqrt(len(per_seed))),
                float(np.mean([r[1] for r in res])),
            )
        )
        print(
            f"{label:<40} {v:<6} RMSE {rows[-1][1]:.4f}  mean error {rows[-1][2]:+.4f} "
            f"(se {rows[-1][3]:.4f})  indefinite {rows[-1][4]:.2f}",
            flush=True,
        )
    return rows


def accuracy(quick: bool) -> dict[str, dict[str, Rows]]:
    sizes = [100, 300, 1000] if quick else [100, 300, 1000, 3000]
    seeds = range(3 if quick else 8)
    panels: dict[str, dict[str, Rows]] = {"estimators": {}, "presentations": {}, "trials": {}}
    limits = {"gaussian_process": 300, "spline": 1000}
    for name in ("local_linear", "local_quadratic", "spline", "stencil", "gaussian_process"):
        ps = [P for P in sizes if P <= limits.get(name, 10**9)]
        panels["estimators"][name] = sweep(
            f"{name} (analytic)", ps, lambda P, s, n=name: estimate(n, P, s, "analytic"), seeds
        )
    h = 0.1
    for corr in (None, "analytic", "crossfit"):
        label = f"h = {h}, {corr or 'naive'}"
        ps = [P for P in sizes if P >= 300]  # h = 0.1 needs >= 300 presentations on the ring
        panels["presentations"][label] = sweep(
            label, ps, lambda P, s, c=corr: estimate("local_linear", P, s, c, T, h), seeds
        )
        panels["trials"][label] = sweep(
            label + " (P = 300)",
            [1, 2, 4, 8, 16],
            lambda t, s, c=corr: estimate("local_linear", 300, s, c, t, h),
            seeds,
        )
    return panels


def figure(panels: dict[str, dict[str, Rows]], out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.7), dpi=80)
    titles = {
        "estimators": "RMSE; estimators with analytic correction,\ndata-chosen smoothing (T = 4)",
        "presentations": "mean error ± 2 se; local linear, h = 0.1 rad, T = 4",
        "trials": "mean error ± 2 se; local linear, h = 0.1 rad,\n300 presentations",
    }
    xlabels = {
        "estimators": "presentations",
        "presentations": "presentations",
        "trials": "trials per presentation",
    }
    for ax, (key, curves) in zip(axes, panels.items()):
        for label, rows in curves.items():
            x = [r[0] for r in rows]
            if key == "estimators":
                ax.loglog(x, [r[1] for r in rows], "o-", label=label, ms=4)
            else:
                ax.errorbar(
                    x,
                    [r[2] for r in rows],
                    yerr=[2 * r[3] for r in rows],
                    fmt="o-",
                    ms=4,
                    capsize=2,
                    label=label,
                )
                ax.set_xscale("log")
        if key != "estimators":
            ax.axhline(
                smoothing_bias(0.1), color="k", ls="--", lw=1, label="smoothing bias (target J_h)"
            )
            ax.axhline(0.0, color="grey", lw=0.5)
        ax.set_xticks(sorted({r[0] for rows in curves.values() for r in rows}))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(titles[key], fontsize=9)
        ax.set_xlabel(xlabels[key])
        ax.set_ylabel("RMSE of log √det g" if key == "estimators" else "error of log √det g")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(
        "Poisson von Mises ring (N = 24, peak 10 counts): log volume element vs the exact metric",
        fontsize=10,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    print(f"saved {out} ({out.stat().st_size / 1024:.0f} KB)")


def speed() -> None:
    """Best of 3 timings (after a warm-up) of each side, so that load spikes do not count."""
    pop = sim.PlaceFields.lattice(2, 1 / 9, (0.0, 1.0), 0.15, amplitude=5.0, baseline=0.5)
    assert pop.n_neurons == 100
    X = pop.uniform_stimuli(4000, random_state=0)
    R = pop.sample(X, 2, noise="poisson", random_state=1)
    q = pop.uniform_stimuli(1000, margin=0.1, random_state=2)
    h = 0.04

    def fixed() -> np.ndarray:
        return np.asarray(ng.SampledResponseMap(X, R, estimator_params={"bandwidth": h}).metric(q))

    def with_cv() -> np.ndarray:
        return np.asarray(ng.SampledResponseMap(X, R).metric(q))

    t_fixed, t_cv = best_time(fixed), best_time(with_cv, repeats=1)
    print("\nSpeed: 100 neurons, 4000 presentations x 2 trials, 1000 query points, d = 2")
    print(f"  fit + corrected metrics, fixed bandwidth:   {t_fixed:.2f} s")
    print(f"  fit + corrected metrics, LOO-CV bandwidth:  {t_cv:.2f} s")
    from statsmodels.nonparametric.kernel_regression import KernelReg

    means = R.mean(1)
    n_kr, q_kr = 2, 50
    slopes: list[np.ndarray] = []

    def kernelreg() -> None:
        slopes.clear()
        for i in range(n_kr):
            kr = KernelReg(means[:, i], X, var_type="cc", reg_type="ll", bw=[h, h])
            slopes.append(kr.fit(q[:q_kr])[1])

    t_kr = best_time(kernelreg) / (n_kr * q_kr)
    ours = ng.get_estimator("local_linear", bandwidth=h).fit(X, means).jacobian(q[:q_kr])
    agree = max(np.abs(ours[:, i, :] - slopes[i]).max() for i in range(n_kr))
    t_ours = t_fixed / (100 * 1000)
    print(
        f"  KernelReg (statsmodels, local linear): {1e6 * t_kr:.1f} us per neuron-query "
        f"({n_kr} neurons x {q_kr} queries, slopes only)"
    )
    print(f"  neurogeom (fit + corrected metric):    {1e6 * t_ours:.2f} us per neuron-query")
    print(f"  speed ratio {t_kr / t_ours:.0f}x; max |slope difference| {agree:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sizes and seeds")
    parser.add_argument("--out", default="docs/images/estimator_accuracy.png")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument(
        "--results",
        default="benchmarks/estimator_accuracy.json",
        help="where the accuracy numbers are written (JSON)",
    )
    parser.add_argument(
        "--from-results",
        action="store_true",
        help="redraw the figure from --results without recomputing",
    )
    args = parser.parse_args()
    if args.from_results:
        figure(json.loads(Path(args.results).read_text()), Path(args.out))
        return
    speed()
    if not args.skip_accuracy:
        panels = accuracy(args.quick)
        Path(args.results).write_text(json.dumps(panels, indent=1))
        figure(panels, Path(args.out))


if __name__ == "__main__":
    main()
