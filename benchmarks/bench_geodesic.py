"""Geodesic distances: accuracy and time of ``ng.geodesic`` against scipy, geomstats and stochman.

Two problems, in one run (float64, CPU):

- a sphere of radius 3 in the chart (θ, φ), ``--pairs`` random pairs in one call, against
  the great-circle distance 3·arccos(p̂·q̂); the peer is ``scipy.integrate.solve_bvp`` on
  the closed-form Christoffel symbols, one pair at a time (a subset of ``--peer-pairs``);
- a 2-16-16-5 tanh MLP (the test suite's, weights of gain 3) between two points joined by
  two geodesics; the peer is ``solve_bvp`` on Christoffel symbols from torch derivatives of
  the metric field, from two bent initial paths (``--mlp-peer``; about a minute).

``--peers geomstats,stochman`` adds the two libraries (optional benchmark dependencies, the
``bench`` extra), each imported only when asked for, on the same pairs (the first
``--slow-pairs`` sphere pairs, and the MLP pair against the ``solve_bvp`` reference): the
pullback metric of the same map in each (geomstats' ``ImmersedSet``/``PullbackMetric`` on
its autograd backend — its pytorch backend gets the path energy's gradient wrong — and a
stochman ``EmbeddedManifold``). geomstats: ``metric.dist`` with its default log solver
(shooting, Euler steps), shooting with RK4 steps, and ``LogODESolver`` (scipy ``solve_bvp``);
stochman: ``connecting_geodesic``'s energy minimisation with a tuned cubic spline (the length
of the returned curve, measured densely) and ``dist2``. A peer that is not importable is
skipped with a printed line; an error is reported as text; a call over ``--peer-timeout``
seconds is stopped and reported. geomstats 2.8 needs a NumPy < 2.4 (it imports
``numpy.trapz``); docs/geodesics.md gives a recipe for an environment with both.

Run: ``python benchmarks/bench_geodesic.py [--pairs 128] [--peer-pairs 8] [--mlp-peer]
[--peers geomstats,stochman] [--slow-pairs 4] [--peer-timeout 120]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def clocks() -> np.ndarray:
    """(wall, CPU) seconds; CPU is the process's time over all its threads (the wall clock also
    counts the waits for a shared machine's other jobs; both still vary between runs there)."""
    return np.array([time.perf_counter(), time.process_time()])


class PeerTimeout(BaseException):
    """Raised by the alarm in ``capped``; a BaseException, so no library's ``except Exception``
    swallows it."""


def _alarm(signum: int, frame: object) -> None:
    raise PeerTimeout


def capped(fn: Callable[[], float], limit: float) -> tuple[float | None, np.ndarray, str]:
    """``fn()`` stopped after ``limit`` wall seconds: (value or None, (wall, CPU) seconds, note
    on failure)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    t0 = clocks()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(fn())
        note = "" if np.isfinite(value) else f"returned {value}"
        return (value if note == "" else None), clocks() - t0, note
    except PeerTimeout:
        return None, clocks() - t0, f"> {limit:.0f} s, stopped"
    except Exception as e:  # a peer's failure is a result to report, not a crash
        msg = str(e).strip().splitlines()[0][:70] if str(e).strip() else ""
        return None, clocks() - t0, f"{type(e).__name__}: {msg}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Row:
    """One method's line of the summary table."""

    method: str
    sphere_err: float | None = None
    sphere_s: np.ndarray | None = None  # (wall, CPU) seconds per pair
    sphere_done: str = ""
    mlp_ratio: float | None = None
    mlp_s: np.ndarray | None = None  # (wall, CPU) seconds
    notes: str = ""


def run_peer(
    row: Row,
    sphere_fn: Callable[[np.ndarray, np.ndarray], float],
    mlp_fn: Callable[[], float],
    a: np.ndarray,
    b: np.ndarray,
    exact: np.ndarray,
    ref: float,
    limits: tuple[float, float],
) -> Row:
    """Sphere pairs one at a time, then the MLP pair; each call stopped after ``limits[1]``
    seconds, and no sphere pair started once the method has spent ``limits[0]`` on the sphere."""
    budget, limit = limits
    errs, times, notes = [], [], []
    spent = 0.0
    for i in range(len(a)):
        value, t, note = capped(lambda i=i: sphere_fn(a[i], b[i]), limit)
        spent += t[0]
        if value is None:
            notes.append(f"sphere pair {i}: {note}")
            break
        errs.append(abs(value / exact[i] - 1))
        times.append(t)
        if spent >= budget and i + 1 < len(a):
            notes.append(f"sphere: {i + 1} pair{'s' if i else ''} in the {budget:.0f} s budget")
            break
    if errs:
        row.sphere_err, row.sphere_s = max(errs), np.mean(times, axis=0)
    row.sphere_done = f"{len(errs)}/{len(a)}"
    value, t, note = capped(mlp_fn, limit)
    row.mlp_s = t
    if value is None:
        notes.append("MLP: the same" if notes and notes[-1].endswith(note) else f"MLP: {note}")
    else:
        row.mlp_ratio = value / ref
    row.notes = "; ".join([n for n in [row.notes, *notes] if n])
    print(f"  {row.method}: sphere {row.sphere_done} pairs, max err {row.sphere_err}, "
          f"MLP ratio {row.mlp_ratio} in {t[0]:.1f} s {note}", flush=True)  # fmt: skip
    return row


def mlp_layers(net: torch.nn.Module) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) of each Linear layer of a Linear/Tanh ``Sequential`` (tanh between them)."""
    kinds = [type(m).__name__ for m in net]
    if kinds[::2] != ["Linear"] * len(kinds[::2]) or set(kinds[1::2]) - {"Tanh"}:
        raise TypeError(f"expected Linear, Tanh, ..., Linear; got {kinds}")
    return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in net[::2]]


def geomstats_rows(
    net: torch.nn.Module,
    ends: tuple[np.ndarray, np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    exact: np.ndarray,
    ref: float,
    limits: tuple[float, float],
) -> list[Row]:
    """geomstats' ``PullbackMetric`` of the sphere and of the MLP, three log solvers."""
    if "geomstats" not in sys.modules:
        os.environ["GEOMSTATS_BACKEND"] = "autograd"  # its pytorch backend's gradient is wrong
    try:
        import geomstats
        import geomstats.backend as gs
        from geomstats.geometry.base import ImmersedSet
        from geomstats.geometry.euclidean import Euclidean
        from geomstats.numerics.geodesic import ExpODESolver, LogODESolver
        from geomstats.numerics.ivp import GSIVPIntegrator
    except Exception as e:  # ImportError, or numpy.trapz gone (NumPy >= 2.4)
        print(f"geomstats not importable: {type(e).__name__}: {e} (it needs autograd and "
              "numpy<2.4: the bench extra, in an environment of its own; see docs/geodesics.md)")  # fmt: skip
        return []
    print(f"geomstats {geomstats.__version__}, backend {gs.__name__}")
    layers = mlp_layers(net)

    class Sphere(ImmersedSet):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(dim=2)

        def immersion(self, x: Any) -> Any:
            th, ph = x[..., 0], x[..., 1]
            return RADIUS * gs.stack(
                [gs.sin(th) * gs.cos(ph), gs.sin(th) * gs.sin(ph), gs.cos(th)], axis=-1
            )

        def _define_embedding_space(self) -> Any:
            return Euclidean(dim=3)

    class Mlp(ImmersedSet):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(dim=2)

        def immersion(self, x: Any) -> Any:
            for k, (w, c) in enumerate(layers):
                x = gs.einsum("...j,ij->...i", x, w) + c
                x = gs.tanh(x) if k < len(layers) - 1 else x
            return x

        def _define_embedding_space(self) -> Any:
            return Euclidean(dim=len(layers[-1][1]))

    with torch.no_grad():  # the same map in both frameworks
        same = net(torch.as_tensor(ends[0])).numpy()
    gap = float(np.abs(np.asarray(Mlp().immersion(gs.array(ends[0]))) - same).max())
    if gap > 1e-12:
        raise RuntimeError(f"geomstats' copy of the MLP differs from the network by {gap:.1e}")

    def solver(space: Any, kind: str) -> Any:
        if kind == "rk4":
            integrator = GSIVPIntegrator(n_steps=100, step_type="rk4")
            space.metric.exp_solver = ExpODESolver(space, integrator=integrator)
        elif kind == "bvp":
            space.metric.log_solver = LogODESolver(space, use_jac=False)
        elif kind == "bvp_jac":
            space.metric.log_solver = LogODESolver(space)
        return space

    methods = [
        ("default", "geomstats `metric.dist` (default: shooting, 100 Euler steps)", ""),
        ("rk4", "geomstats shooting, 100 RK4 steps", ""),
        ("bvp", "geomstats `LogODESolver` (scipy `solve_bvp`, tol 1e-3)", "use_jac=False"),
        ("bvp_jac", "geomstats `LogODESolver`, default use_jac=True", ""),
    ]
    rows = []
    for kind, name, note in methods:
        sph, mlp = solver(Sphere(), kind), solver(Mlp(), kind)

        def on_sphere(p: np.ndarray, q: np.ndarray, sph: Any = sph) -> float:
            return float(sph.metric.dist(gs.array(p), gs.array(q)))

        def on_mlp(mlp: Any = mlp) -> float:
            return float(mlp.metric.dist(gs.array(ends[0]), gs.array(ends[1])))

        rows.append(run_peer(Row(name, notes=note), on_sphere, on_mlp, a, b, exact, ref, limits))
    return rows


def stochman_rows(
    net: torch.nn.Module,
    ends: tuple[np.ndarray, np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    exact: np.ndarray,
    ref: float,
    limits: tuple[float, float],
) -> list[Row]:
    """stochman's energy minimisation on an ``EmbeddedManifold`` (the pullback of the map)."""
    try:
        import stochman
        from stochman.curves import CubicSpline
        from stochman.geodesic import geodesic_minimizing_energy
        from stochman.manifold import EmbeddedManifold
    except Exception as e:
        print(f"stochman not importable: {type(e).__name__}: {e} (the bench extra)")
        return []
    print(f"stochman {getattr(stochman, '__version__', '(version unknown)')}")

    class Pullback(EmbeddedManifold):  # type: ignore[misc]
        def __init__(self, f: Callable[[torch.Tensor], torch.Tensor]) -> None:
            self.f = f

        def embed(self, points: torch.Tensor, jacobian: bool = False) -> Any:
            y = self.f(points)
            if not jacobian:
                return y
            flat = points.reshape(-1, points.shape[-1])
            J = torch.func.vmap(torch.func.jacrev(self.f))(flat)
            return y, J.reshape(*points.shape[:-1], *J.shape[1:])

    def sphere_batch(x: torch.Tensor) -> torch.Tensor:
        th, ph = x[..., 0], x[..., 1]
        return RADIUS * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], -1)

    sph, mlp = Pullback(sphere_batch), Pullback(net)
    nodes, iters, grid = 16, 1000, 64  # tuned on the sphere: 1e-7, vs 1e-6 with the defaults

    def connect(M: Any, p: np.ndarray, q: np.ndarray) -> float:
        p0, p1 = torch.as_tensor(p)[None], torch.as_tensor(q)[None]
        curve = CubicSpline(p0, p1, num_nodes=nodes)
        geodesic_minimizing_energy(curve, M, max_iter=iters, eval_grid=grid)
        with torch.no_grad():  # the returned curve's length, 20000 chords in response space
            y = M.f(curve(torch.linspace(0, 1, 20001, dtype=torch.float64)))
            return float((y[..., 1:, :] - y[..., :-1, :]).norm(dim=-1).sum())

    def dist(M: Any, p: np.ndarray, q: np.ndarray) -> float:
        return float(M.dist2(torch.as_tensor(p)[None], torch.as_tensor(q)[None]).sqrt())

    # stochman makes some tensors in the default dtype (``dist2``'s ``constant_speed``:
    # torch.linspace(0, 1, 100)), so a float64 run needs float64 as the default.
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    rows = []
    try:
        connect(sph, a[0], b[0])  # warm-up (torch.func tracing)
        name = f"stochman `connecting_geodesic`, CubicSpline({nodes} nodes), Adam {iters} it."
        for fn, label in [(connect, name), (dist, "stochman `dist2` (defaults)")]:
            rows.append(run_peer(
                Row(label, notes=f"eval grid {grid}" if fn is connect else ""),
                lambda p, q, fn=fn: fn(sph, p, q),
                lambda fn=fn: fn(mlp, *ends),
                a, b, exact, ref, limits,
            ))  # fmt: skip
    finally:
        torch.set_default_dtype(default_dtype)
    return rows


def fmt(x: float | None, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def fmt_time(t: np.ndarray | None) -> str:
    return "—" if t is None else f"{t[0]:.3g} ({t[1]:.3g})"


def print_table(rows: list[Row]) -> None:
    print("\n| method | sphere: max rel. error | sphere: s / pair, wall (CPU) [pairs] "
          "| MLP: length ÷ reference | MLP: s, wall (CPU) | notes |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in rows:
        err, ratio = fmt(r.sphere_err, ".1e"), fmt(r.mlp_ratio, ".9f")
        print(f"| {r.method} | {err} | {fmt_time(r.sphere_s)} [{r.sphere_done}] | {ratio} "
              f"| {fmt_time(r.mlp_s)} | {r.notes} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=128)
    parser.add_argument("--peer-pairs", type=int, default=8)
    parser.add_argument("--mlp-peer", action="store_true")
    parser.add_argument("--peers", default="", help="comma-separated: geomstats,stochman")
    parser.add_argument("--slow-pairs", type=int, default=4, help="sphere pairs for the peers")
    parser.add_argument("--peer-timeout", type=float, default=120.0, help="seconds per MLP call")
    parser.add_argument(
        "--sphere-budget", type=float, default=None, help="no new sphere pair after these seconds"
    )
    args = parser.parse_args()
    peers = [name for name in args.peers.split(",") if name]
    if set(peers) - {"geomstats", "stochman"}:
        parser.error(f"--peers takes geomstats and/or stochman, got {args.peers!r}")
    print(f"torch threads {torch.get_num_threads()}, numpy {np.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    rng = np.random.default_rng(0)
    p = args.pairs
    a = np.stack([rng.uniform(np.pi / 4, 3 * np.pi / 4, p), rng.uniform(-1, 1, p)], 1)
    b = np.stack([rng.uniform(np.pi / 4, 3 * np.pi / 4, p), rng.uniform(-1, 1, p)], 1)
    exact = RADIUS * np.arccos(np.clip((unit(a) * unit(b)).sum(1), -1, 1))
    rm = ng.TorchResponseMap(sphere, dtype=torch.float64)
    ng.geodesic(rm, a[:2], b[:2])  # warm-up
    t0 = clocks()
    ds1 = ng.geodesic(rm, a, b, starts=1)
    t_ng1 = clocks() - t0
    err_ng1 = np.abs(ds1.length.values / exact - 1).max()
    t0 = clocks()
    ds = ng.geodesic(rm, a, b)
    t_ng = clocks() - t0
    err_ng = np.abs(ds.length.values / exact - 1).max()
    q = args.peer_pairs
    t0 = clocks()
    peer = np.array([scipy_sphere(a[i], b[i]) for i in range(q)])
    t_sp = clocks() - t0
    err_sp = np.abs(peer / exact[:q] - 1).max()
    print(f"\nsphere r = {RADIUS}: {p} pairs (ng, one call), {q} pairs (scipy, a loop)")
    print(f"{'method':<44}{'max rel. error':>16}{'ms / pair':>12}{'CPU ms':>10}{'converged':>11}")
    print(f"{'ng.geodesic, starts=1':<44}{err_ng1:>16.2e}{1e3 * t_ng1[0] / p:>12.2f}"
          f"{1e3 * t_ng1[1] / p:>10.2f}{int(ds1.converged.sum()):>8}/{p}")  # fmt: skip
    print(f"{'ng.geodesic, starts=3 (default)':<44}{err_ng:>16.2e}{1e3 * t_ng[0] / p:>12.2f}"
          f"{1e3 * t_ng[1] / p:>10.2f}{int(ds.converged.sum()):>8}/{p}")  # fmt: skip
    print(f"{'scipy solve_bvp, exact Γ, tol 1e-10':<44}{err_sp:>16.2e}{1e3 * t_sp[0] / q:>12.2f}"
          f"{1e3 * t_sp[1] / q:>10.2f}")  # fmt: skip
    print(f"per-pair speed-up over scipy: {(t_sp[0] / q) / (t_ng[0] / p):.1f}x wall, "
          f"{(t_sp[1] / q) / (t_ng[1] / p):.1f}x CPU")  # fmt: skip

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_geodesic import MLP_A, MLP_B, _bvp_reference, _mlp

    net = _mlp()
    mm = ng.TorchResponseMap(net, dtype=torch.float64)
    ng.geodesic(mm, MLP_A[None], MLP_B[None])  # warm-up
    t0 = clocks()
    dm = ng.geodesic(mm, MLP_A[None], MLP_B[None])
    t_m = clocks() - t0
    cands = np.unique(np.round(dm.candidate_length.values[0], 9))
    print("\ntanh MLP 2-16-16-5, one pair joined by two geodesics")
    print(f"ng.geodesic: length {float(dm.length[0]):.12f} (candidates {cands.tolist()}), "
          f"{t_m[0]:.2f} s ({t_m[1]:.2f} s CPU), degree {len(dm.t) - 1}, residual {float(dm.residual[0]):.1e}")  # fmt: skip
    if not (args.mlp_peer or peers):
        return
    t0 = clocks()
    ref = _bvp_reference(net, MLP_A, MLP_B, bends=(0.5, -0.5))
    t_r = clocks() - t0
    print(f"scipy solve_bvp (two starts): lengths {[round(r, 12) for r in ref]}, "
          f"{t_r[0]:.1f} s ({t_r[1]:.1f} s CPU)")  # fmt: skip
    print(f"ng / scipy minimum - 1 = {float(dm.length[0]) / min(ref) - 1:.2e}; "
          f"speed-up {t_r[0] / t_m[0]:.0f}x wall, {t_r[1] / t_m[1]:.0f}x CPU")  # fmt: skip
    if not peers:
        return
    s = args.slow_pairs
    rows = [
        Row("`ng.geodesic` (default, starts=3)", err_ng, t_ng / p, f"{p}/{p}",
            float(dm.length[0]) / min(ref), t_m, "all pairs in one call"),
        Row("scipy `solve_bvp`, exact Γ / torch-derived Γ, tol 1e-10", err_sp, t_sp / q,
            f"{q}/{q}", 1.0, t_r, "the MLP reference (shorter of two bent starts)"),
    ]  # fmt: skip
    limits = (args.sphere_budget or args.peer_timeout, args.peer_timeout)
    print(f"\npeers on sphere pairs 0..{s - 1} (no pair started after {limits[0]:.0f} s a method) "
          f"and the MLP pair; each call stopped after {limits[1]:.0f} s")  # fmt: skip
    for name, make in [("geomstats", geomstats_rows), ("stochman", stochman_rows)]:
        if name in peers:
            ends = (MLP_A, MLP_B)
            rows += make(net, ends, a[:s], b[:s], exact[:s], min(ref), limits)
    print_table(rows)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
