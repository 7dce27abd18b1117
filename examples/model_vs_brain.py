"""Does a network layer see stimuli the way a recorded population does?

The poster's closing question as a runnable analysis, on a two-dimensional stimulus plane:

1. a "recorded" population — simulated place-field neurons seen through a smooth warp
   of the stimulus plane, with Poisson spike counts on repeated trials — whose exact
   geometry is known (``neurogeom.simulate``);
2. its geometry estimated from the counts alone: bandwidth chosen by cross-validation
   (``SampledGeometry`` in ``GridSearchCV``), bias-corrected local-linear metric,
   bootstrap intervals;
3. a network layer (a small MLP trained on the seed's sinusoid task), measured exactly on
   the same stimuli;
4. the fields compared (``ng.compare``): the estimate against the exact population
   geometry (does the estimator recover it? do its intervals cover it?), and the model
   layer against the recording (the closing question), with a figure.

Run: ``python examples/model_vs_brain.py [--out DIR]`` (about 20 s on a laptop CPU).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV, KFold

import neurogeom as ng
from neurogeom import simulate
from neurogeom.comparison import compare
from neurogeom.data import sinusoid_task
from neurogeom.models import ShallowNet
from neurogeom.pipeline import SampledGeometry
from neurogeom.plot import compare_fields
from neurogeom.train import TrainConfig, train_classifier


class PopulationMap(ng.ResponseMap):
    """The exact geometry of a simulated population, as a response map."""

    def __init__(self, population: simulate.Population) -> None:
        self.population = population
        self.layers, self.returns_dict = ("population",), False

    def layer_responses(self, x):  # type: ignore[no-untyped-def]
        return {"population": self.population.mean(x)}

    def layer_jacobians(self, x, tangents=None):  # type: ignore[no-untyped-def]
        J = self.population.jacobian(x)
        return {"population": J if tangents is None else J @ np.asarray(tangents).T}


def recorded_population() -> simulate.Population:
    fields = simulate.PlaceFields.lattice(
        2, spacing=0.4, extent=(-1.2, 1.2), width=0.45, amplitude=8.0, baseline=1.0
    )
    fields.bounds = np.tile([-1.0, 1.0], (2, 1))
    return simulate.Warped.sinusoidal(fields, strength=0.4)


def trained_layer(epochs: int) -> ng.TorchResponseMap:
    X, y = sinusoid_task(400, seed=0)
    torch.manual_seed(0)
    net = ShallowNet(2, 64, n_classes=2).double()
    train_classifier(net, X, y, TrainConfig(epochs=epochs, lr=0.05, batch_size=40))
    return ng.TorchResponseMap(net, "hidden0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presentations", type=int, default=1500)
    parser.add_argument("--repetitions", type=int, default=4)
    parser.add_argument("--resolution", type=int, default=15)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("model_vs_brain"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    # 1. the recording: Poisson counts on repeated trials of random stimuli
    pop = recorded_population()
    stimuli = pop.uniform_stimuli(args.presentations, random_state=1)
    counts = pop.sample(stimuli, args.repetitions, noise="poisson", random_state=2)
    print(
        f"recording: {pop.n_neurons} neurons, {args.presentations} stimuli x "
        f"{args.repetitions} trials"
    )

    # 2. bandwidth by cross-validated prediction error, then the estimate with intervals
    search = GridSearchCV(
        SampledGeometry(domain=None),
        {"bandwidth": [0.12, 0.15, 0.2, 0.3, 0.45]},
        cv=KFold(4, shuffle=True, random_state=0),
    ).fit(stimuli, counts.mean(axis=1))
    h = search.best_params_["bandwidth"]
    print(f"bandwidth chosen by 4-fold CV: {h}")
    rm_data = ng.SampledResponseMap(
        stimuli, counts, estimator_params={"bandwidth": h}, n_bootstrap=args.bootstrap
    )
    grid = ng.Grid([(-0.8, 0.8), (-0.8, 0.8)], resolution=args.resolution)
    estimate = ng.geometry(rm_data, grid)
    exact = ng.geometry(PopulationMap(pop), grid)
    # the smoothed target J_h the intervals are about: the same estimator applied to the
    # noise-free mean responses at the same stimuli
    smoothed = ng.geometry(
        ng.SampledResponseMap(
            stimuli, pop.mean(stimuli), estimator_params={"bandwidth": h}, correction=None
        ),
        grid,
    )

    # 3. the model layer on the same stimuli
    model = ng.geometry(trained_layer(args.epochs), grid)

    # 4. comparisons
    kw = {"n_permutations": 999, "n_bootstrap": 999, "random_state": 0}
    recovery = compare(exact, estimate, labels=("exact", "estimate"), **kw)
    question = compare(model, estimate, labels=("model layer", "recording"), **kw)
    truth = compare(model, exact, labels=("model layer", "population"), **kw)
    # a permutation test over points assumes independent points; a coarse subgrid is
    # closer to that than the smooth full grid
    coarse = {"u": slice(None, None, 3), "v": slice(None, None, 3)}
    sparse = compare(model.isel(coarse), estimate.isel(coarse), tensors=False, **kw)

    lv, lo, hi = (
        estimate[k]
        for k in ("log_volume_element", "log_volume_element_ci_low", "log_volume_element_ci_high")
    )
    print(f"\nestimate vs exact population geometry ({grid.shape[0]}x{grid.shape[1]} grid):")
    for label, target in (("exact", exact), ("smoothed (bandwidth h)", smoothed)):
        t = target.log_volume_element
        covered = float(((lo <= t) & (t <= hi)).mean())
        rmse = float(np.sqrt(((lv - t) ** 2).mean()))
        print(
            f"  vs the {label} log-volume: RMSE {rmse:.3f}, 95% bootstrap intervals "
            f"cover it at {100 * covered:.0f}% of points"
        )
    for name, res in (
        ("estimate vs exact", recovery),
        ("model vs recording", question),
        ("model vs exact population", truth),
    ):
        print(f"\n{name}:")
        print(
            f"  Spearman {float(res.spearman_r):+.3f} "
            f"[{float(res.spearman_r_ci_low):+.3f}, {float(res.spearman_r_ci_high):+.3f}], "
            f"Pearson {float(res.pearson_r):+.3f}"
        )
        print(
            f"  affine-invariant distance {float(res.affine_invariant_distance_mean):.3f} "
            f"[{float(res.affine_invariant_distance_mean_ci_low):.3f}, "
            f"{float(res.affine_invariant_distance_mean_ci_high):.3f}], "
            f"principal-direction agreement {float(res.direction_agreement_mean):.3f} "
            f"(chance 0.5)"
        )
    print(
        f"\nmodel vs recording on a 1-in-3 subgrid ({int(sparse.n_compared)} points): "
        f"Spearman {float(sparse.spearman_r):+.3f}, permutation p = "
        f"{float(sparse.spearman_p_value):.3f}"
    )

    fig, axes = plt.subplots(2, 3, figsize=(12.6, 7.4), constrained_layout=True)
    compare_fields(exact, estimate, axes[0], labels=("population (exact)", "estimate"))
    compare_fields(
        model, estimate, axes[1], labels=("model layer", "recording"), shared_scale=False
    )
    fig.savefig(args.out / "model_vs_brain.png", dpi=110)
    ng.save(question, args.out / "model_vs_recording.nc")
    print(f"\nwrote {args.out / 'model_vs_brain.png'} and {args.out / 'model_vs_recording.nc'}")
    assert math.isfinite(float(question.spearman_r))


if __name__ == "__main__":
    main()
