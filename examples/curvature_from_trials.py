"""Intrinsic and extrinsic curvature of neural codes, estimated from Poisson trials.

Two simulated populations, recorded as Poisson spike counts on a few trials per stimulus:

- a head-direction ring (32 von Mises tuning curves): a closed curve in response space. A
  curve has no intrinsic curvature (R = 0 identically); how it bends in response space is
  its extrinsic curvature |H|.
- place cells on a 2-D arena (a lattice of Gaussian fields): intrinsically *flat* (the
  metric is constant away from the arena's edge, so R = 0) yet extrinsically curved — the
  arena is rolled up in the high-dimensional response space, equally in every direction
  (both principal curvatures equal |H|).

Both are estimated with a local quadratic fit (``estimator="local_quadratic"``), the
noise bias of every product of estimated derivatives corrected, and bootstrap intervals.
The estimator sees the tuning curves smoothed by its kernel, so the intervals are compared
with that *smoothed target* (the same fit to the noise-free mean rates) as well as with the
exact curvature (exact jets of the tuning curves through a ``TorchResponseMap``).

Next to them, a small network trained on the same task — predicting the place-cell counts
from the position — measured the same way: its output layer recovers the population's
extrinsic curvature; its hidden layer is a different (wider, differently bent) surface.

Run: ``python examples/curvature_from_trials.py [--out curvature_trials.png]``
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import neurogeom as ng
from neurogeom import simulate


def place_fields_map(pop: simulate.PlaceFields) -> ng.TorchResponseMap:
    """The exact tuning curves as a torch map: exact jets, exact curvature."""
    centers = torch.as_tensor(pop.centers)

    def rates(x: torch.Tensor) -> torch.Tensor:
        sq = ((x[:, None, :] - centers) ** 2).sum(-1)
        return pop.baseline + pop.amplitude * torch.exp(-sq / (2 * pop.width**2))

    return ng.TorchResponseMap(rates, dtype=torch.float64)


def ring_map(pop: simulate.VonMisesRing) -> ng.TorchResponseMap:
    preferred = torch.as_tensor(pop.preferred)

    def rates(x: torch.Tensor) -> torch.Tensor:
        bump = torch.exp(pop.kappa * (torch.cos(x - preferred) - 1))
        return pop.baseline + pop.amplitude * bump

    return ng.TorchResponseMap(rates, dtype=torch.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presentations", type=int, default=3000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=30)
    parser.add_argument("--resolution", type=int, default=5)
    parser.add_argument("--steps", type=int, default=400, help="training steps of the network")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="save the figure here (PNG)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    # -- head-direction ring ------------------------------------------------------------
    ring = simulate.VonMisesRing(32, amplitude=8.0, kappa=2.0, baseline=1.0)
    theta = rng.uniform(0, 2 * np.pi, (args.presentations // 3, 1))
    counts = ring.sample(theta, 10, noise="poisson", random_state=args.seed + 1)
    params = {"bandwidth": 0.25, "period": 2 * np.pi}
    rm = ng.SampledResponseMap(
        theta, counts, "local_quadratic", estimator_params=params, n_bootstrap=args.bootstrap
    )
    target_map = ng.SampledResponseMap(  # the estimator's own target: noise-free means
        theta, ring.mean(theta), "local_quadratic", correction=None, estimator_params=params
    )
    q = np.linspace(0, 2 * np.pi, 24, endpoint=False)[:, None]
    H_ring = ng.mean_curvature(rm, q, norm=True)
    H_ring_target = ng.mean_curvature(target_map, q, norm=True)
    H_ring_exact = ng.mean_curvature(ring_map(ring), q, norm=True)
    ci_ring = ng.curvature_intervals(rm, q)
    covered = (ci_ring["mean_curvature_norm_ci_low"] <= H_ring_target) & (
        H_ring_target <= ci_ring["mean_curvature_norm_ci_high"]
    )
    ring_err = np.median(np.abs(H_ring / H_ring_target - 1))
    print("head-direction ring (32 neurons, Poisson, 10 trials):")
    print(
        f"  |H| exact {H_ring_exact.mean():.4f}, smoothed target {H_ring_target.mean():.4f}, "
        f"estimated {np.median(H_ring):.4f} (median relative error to the target "
        f"{ring_err:.1%}; 95% intervals cover it at {covered.mean():.0%} of 24 angles); "
        f"R = {float(np.abs(ng.scalar_curvature(rm, q)).max())} (a curve)"
    )

    # -- place cells ----------------------------------------------------------------------
    pop = simulate.PlaceFields.lattice(2, 0.1, (0.0, 1.4), 0.15, amplitude=4.0, baseline=0.2)
    X = pop.uniform_stimuli(args.presentations, random_state=args.seed + 2)
    counts = pop.sample(X, args.repetitions, noise="poisson", random_state=args.seed + 3)
    params = {"bandwidth": 0.06}
    rm = ng.SampledResponseMap(
        X, counts, "local_quadratic", estimator_params=params, n_bootstrap=args.bootstrap
    )
    target_map = ng.SampledResponseMap(
        X, pop.mean(X), "local_quadratic", correction=None, estimator_params=params
    )
    grid = ng.Grid([(0.45, 0.95), (0.45, 0.95)], resolution=args.resolution)  # the interior
    ds = ng.geometry(rm, grid, curvature=True)
    target = ng.geometry(target_map, grid, curvature=True)
    exact = ng.geometry(place_fields_map(pop), grid, curvature=True)
    H, Ht = ds.mean_curvature_norm.values, target.mean_curvature_norm.values
    lo, hi = ds.mean_curvature_norm_ci_low.values, ds.mean_curvature_norm_ci_high.values
    R_lo, R_hi = ds.ricci_scalar_ci_low.values, ds.ricci_scalar_ci_high.values
    place_err = np.median(np.abs(H / Ht - 1))
    flat = np.mean((R_lo <= 0) & (0 <= R_hi))
    print(f"place cells ({pop.n_neurons} fields, Poisson, {args.repetitions} trials):")
    print(
        f"  |H| exact {np.median(exact.mean_curvature_norm):.4f}, smoothed target "
        f"{np.median(Ht):.4f}, estimated {np.median(H):.4f} (median relative error to the "
        f"target {place_err:.1%}; intervals cover it at "
        f"{np.mean((lo <= Ht) & (Ht <= hi)):.0%} of {H.size} points)"
    )
    print(
        f"  principal curvatures (median) {np.median(ds.principal_curvatures.values, (0, 1))}"
        f"; R exact max |R| {np.abs(exact.ricci_scalar).max():.1e}, estimated median "
        f"{np.median(ds.ricci_scalar):.2e}, intervals contain 0 at {flat:.0%} of the points"
    )

    # -- a network trained on the same task --------------------------------------------------
    torch.manual_seed(args.seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 64), torch.nn.Tanh(), torch.nn.Linear(64, pop.n_neurons)
    ).double()
    xs = torch.as_tensor(X)
    ys = torch.as_tensor(counts.mean(1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(args.steps):
        opt.zero_grad()
        loss = torch.nn.functional.poisson_nll_loss(net(xs), ys, log_input=True)
        loss.backward()
        opt.step()
    layers = ng.TorchResponseMap(lambda x: torch.exp(net(x)), dtype=torch.float64)  # rates
    hidden = ng.TorchResponseMap(net[:2], dtype=torch.float64)
    H_net = ng.geometry(layers, grid, curvature=True).mean_curvature_norm.values
    H_hidden = ng.geometry(hidden, grid, curvature=True).mean_curvature_norm.values
    print(
        f"network (64 tanh units, {args.steps} Adam steps on the counts): |H| of its "
        f"predicted rates {np.median(H_net):.4f} (the population's target "
        f"{np.median(Ht):.4f}); of its hidden layer {np.median(H_hidden):.4f}"
    )

    assert ring_err < 0.15, "ring: estimated |H| far from the smoothed target"
    assert place_err < 0.15, "place cells: estimated |H| far from the smoothed target"
    assert flat >= 0.5, "place cells: the Ricci scalar's intervals exclude 0 (flat)"

    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 4, figsize=(15, 3.4))
        t = q[:, 0]
        ax[0].fill_between(
            t, ci_ring["mean_curvature_norm_ci_low"], ci_ring["mean_curvature_norm_ci_high"],
            alpha=0.3, label="95% interval",
        )  # fmt: skip
        ax[0].plot(t, H_ring, "o-", label="estimated")
        ax[0].plot(t, H_ring_target, "k--", label="smoothed target")
        ax[0].plot(t, H_ring_exact, "k:", label="exact")
        ax[0].set(xlabel="head direction θ", ylabel="|H|", title="ring: extrinsic")
        ax[0].legend(fontsize=7)
        for a, field, title in [
            (ax[1], ds.ricci_scalar, "place cells: R (intrinsic)"),
            (ax[2], ds.mean_curvature_norm, "place cells: |H| (extrinsic)"),
        ]:
            im = a.imshow(field.values.T, origin="lower", extent=(0.45, 0.95, 0.45, 0.95))
            a.set(title=title, xlabel="x", ylabel="y")
            fig.colorbar(im, ax=a)
        im = ax[3].imshow(H_hidden.T, origin="lower", extent=(0.45, 0.95, 0.45, 0.95))
        ax[3].set(title="network hidden layer: |H|", xlabel="x", ylabel="y")
        fig.colorbar(im, ax=ax[3])
        fig.tight_layout()
        fig.savefig(args.out, dpi=120)
        print(f"saved {args.out}")


if __name__ == "__main__":
    main()
