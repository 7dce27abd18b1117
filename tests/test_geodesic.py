"""Geodesics and distances against closed forms, an independent BVP solver and invariances.

Closed forms (differential geometry of surfaces): great circles on a sphere of radius a,
d = a·arccos(p̂·q̂); a linear map r = Wx, d = ‖W(a − b)‖; torus meridians, d = a|Δv|; the
pseudosphere (sech u cos v, sech u sin v, u − tanh u), whose metric in (v, w = cosh u) is
the hyperbolic half-plane (dv² + dw²)/w², d = arccosh(1 + (Δv² + Δw²)/(2 w₁ w₂)); a 1-D
ring population, d = ∫‖r′(θ)‖dθ.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.integrate import quad, solve_bvp

import neurogeom as ng
from neurogeom.errors import ConvergenceError, LayerError, ParameterError, SingularMetricError


def _sphere(radius: float) -> ng.TorchResponseMap:
    def f(x: torch.Tensor) -> torch.Tensor:
        th, ph = x[:, 0], x[:, 1]
        return radius * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)

    return ng.TorchResponseMap(f, dtype=torch.float64)


def _unit(x: np.ndarray) -> np.ndarray:
    th, ph = x[:, 0], x[:, 1]
    return np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], 1)


def _pairs(p: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = np.stack([rng.uniform(np.pi / 4, 3 * np.pi / 4, p), rng.uniform(-1, 1, p)], 1)
    b = np.stack([rng.uniform(np.pi / 4, 3 * np.pi / 4, p), rng.uniform(-1, 1, p)], 1)
    return a, b


@pytest.mark.parametrize("radius", [0.5, 1.0, 3.0])
def test_great_circles(radius: float) -> None:
    a, b = _pairs(24, seed=int(radius * 10))
    exact = radius * np.arccos(np.clip((_unit(a) * _unit(b)).sum(1), -1, 1))
    ds = ng.geodesic(_sphere(radius), a, b)
    assert ds.converged.values.all()
    np.testing.assert_allclose(ds.length.values, exact, rtol=1e-9)
    np.testing.assert_allclose(ds.energy.values, exact**2, rtol=1e-9)  # constant speed
    assert (ds.straight_length.values >= exact * (1 - 1e-12)).all()
    # the path lies on the great circle: its points are in the plane of p, q
    normal = np.cross(_unit(a), _unit(b))
    on = np.einsum("ptk,pk->pt", np.stack([_unit(q) for q in ds.path.values]), normal)
    assert np.abs(on).max() < 1e-9


def test_flat_map_distance_and_straight_path() -> None:
    W = torch.tensor([[1.0, 2.0, 0.0], [0.0, 3.0, 1.0], [1.0, -1.0, 2.0], [0.5, 0, 0]])
    rm = ng.TorchResponseMap(lambda x: x @ W.T.double(), dtype=torch.float64)
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    d = ng.geodesic_distance(rm, a, b)
    np.testing.assert_allclose(d, np.linalg.norm((a - b) @ W.numpy().T, axis=1), rtol=1e-12)
    ds = ng.geodesic(rm, a, b)
    t = ds.t.values
    straight = a[:, None] + t[None, :, None] * (b - a)[:, None]
    np.testing.assert_allclose(ds.path.values, straight, atol=1e-12)
    # torch in, torch out
    dt = ng.geodesic_distance(rm, torch.as_tensor(a), torch.as_tensor(b))
    assert isinstance(dt, torch.Tensor)


def test_torus_meridian() -> None:
    R, r = 2.0, 0.7

    def torus(x: torch.Tensor) -> torch.Tensor:
        u, v = x[:, 0], x[:, 1]
        return torch.stack(
            [(R + r * v.cos()) * u.cos(), (R + r * v.cos()) * u.sin(), r * v.sin()], 1
        )

    rm = ng.TorchResponseMap(torus, dtype=torch.float64)
    a = np.array([[0.3, -0.8], [1.0, -0.4], [2.0, 0.1]])
    b = np.array([[0.3, 0.9], [1.0, 0.6], [2.0, 1.2]])
    ds = ng.geodesic(rm, a, b)
    np.testing.assert_allclose(ds.length.values, r * np.abs(b[:, 1] - a[:, 1]), rtol=1e-10)
    np.testing.assert_allclose(ds.path.values[:, :, 0], a[:, :1].repeat(len(ds.t), 1), atol=1e-10)


def test_pseudosphere_hyperbolic_distance() -> None:
    def pseudo(x: torch.Tensor) -> torch.Tensor:
        u, v = x[:, 0], x[:, 1]
        s = 1 / u.cosh()
        return torch.stack([s * v.cos(), s * v.sin(), u - u.tanh()], 1)

    rm = ng.TorchResponseMap(pseudo, dtype=torch.float64)
    a = np.array([[0.8, 0.0], [1.5, -0.4], [0.6, 0.5], [2.0, 1.0]])
    b = np.array([[1.7, 0.9], [1.0, 0.6], [1.2, -0.7], [2.2, -1.5]])
    w1, w2 = np.cosh(a[:, 0]), np.cosh(b[:, 0])
    exact = np.arccosh(1 + ((a[:, 1] - b[:, 1]) ** 2 + (w1 - w2) ** 2) / (2 * w1 * w2))
    ds = ng.geodesic(rm, a, b)
    assert ds.converged.values.all()
    np.testing.assert_allclose(ds.length.values, exact, rtol=1e-9)


def test_reparametrisation_invariance() -> None:
    """x = A y + c: the distance between y-images equals the one between x-points."""
    A = np.array([[0.7, 0.2], [-0.3, 1.1]])
    c = np.array([0.1, -0.2])
    sphere = _sphere(2.0)
    At, ct = torch.as_tensor(A), torch.as_tensor(c)
    warped = ng.TorchResponseMap(lambda y: _sphere_fn(2.0)(y @ At.T + ct), dtype=torch.float64)
    x_a, x_b = _pairs(8, seed=5)
    y_a, y_b = np.linalg.solve(A, (x_a - c).T).T, np.linalg.solve(A, (x_b - c).T).T
    np.testing.assert_allclose(
        ng.geodesic_distance(warped, y_a, y_b), ng.geodesic_distance(sphere, x_a, x_b), rtol=1e-9
    )


def _sphere_fn(radius: float):
    def f(x: torch.Tensor) -> torch.Tensor:
        th, ph = x[:, 0], x[:, 1]
        return radius * torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)

    return f


def _mlp() -> torch.nn.Module:
    """A 2-16-16-5 tanh MLP with weights of gain 3 (curved enough for two geodesics)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
        torch.nn.Linear(16, 5),
    ).double()  # fmt: skip
    with torch.no_grad():
        for layer in net[::2]:
            layer.weight.mul_(3.0)
    return net


def _bvp_reference(
    net: torch.nn.Module, a: np.ndarray, b: np.ndarray, bends: tuple[float, ...] = (0.0, 0.5, -0.5)
) -> list[float]:
    """Lengths of the geodesics scipy's solve_bvp finds from several initial guesses.

    Independent of the package: Christoffel symbols from torch.func derivatives of the
    metric field g = JᵀJ, Γ = ½ g⁻¹(∂g + ∂gᵀ − ∇g).
    """

    def metric(x: torch.Tensor) -> torch.Tensor:
        J = torch.func.jacfwd(lambda z: net(z[None])[0])(x)
        return J.T @ J

    def gamma(x: torch.Tensor) -> torch.Tensor:
        g = metric(x)
        dg = torch.func.jacfwd(metric)(x)  # [b, c, e] = ∂_e g_bc
        # [d, b, c] = ½ (∂_b g_dc + ∂_c g_db − ∂_d g_bc)
        low = 0.5 * (dg.permute(0, 2, 1) + dg - torch.einsum("bcd->dbc", dg))
        return torch.linalg.solve(g, low.reshape(2, 4)).reshape(2, 2, 2)

    vgamma = torch.func.vmap(gamma)

    def rhs(t: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, v = torch.as_tensor(y[:2].T), torch.as_tensor(y[2:].T)
        G = vgamma(x)
        acc = -torch.einsum("mabc,mb,mc->ma", G, v, v)
        return np.vstack([y[2:], acc.detach().numpy().T])

    def bc(ya: np.ndarray, yb: np.ndarray) -> np.ndarray:
        return np.concatenate([ya[:2] - a, yb[:2] - b])

    t = np.linspace(0, 1, 201)
    perp = np.array([-(b - a)[1], (b - a)[0]])
    lengths = []
    for bend in bends:
        x0 = a[:, None] + t * (b - a)[:, None] + bend * np.sin(np.pi * t) * perp[:, None]
        v0 = np.gradient(x0, t, axis=1)
        sol = solve_bvp(rhs, bc, t, np.vstack([x0, v0]), tol=1e-8, max_nodes=5000)
        if not sol.success:
            continue
        lengths.append(
            quad(_speed(sol.sol, metric), 0, 1, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
        )
    return lengths


def _speed(path, metric):
    def speed(s: float) -> float:
        y = path(s)
        return float(np.sqrt(y[2:] @ metric(torch.as_tensor(y[:2])).detach().numpy() @ y[2:]))

    return speed


MLP_A = np.array([0.17449996586169148, 1.740289695151073])
MLP_B = np.array([-1.4596139799103551, 0.8859533607763268])


def test_mlp_minimising_geodesic_of_two() -> None:
    """Two geodesics join these end points; the shorter one is returned, both are reported.

    Reference lengths from scipy's solve_bvp on independently derived Christoffel symbols
    (test_mlp_matches_scipy_bvp, marked slow, recomputes them): 3.938876895879 and
    4.083143241656.
    """
    ds = ng.geodesic(ng.TorchResponseMap(_mlp(), dtype=torch.float64), MLP_A[None], MLP_B[None])
    assert bool(ds.converged[0]) and int(ds.geodesics_found[0]) == 2
    assert abs(float(ds.length[0]) / 3.938876895879 - 1) < 1e-9
    cands = np.sort(ds.candidate_length.values[0])
    assert abs(cands[-1] / 4.083143241656 - 1) < 1e-9
    assert float(ds.length[0]) < float(ds.straight_length[0])


@pytest.mark.slow
def test_mlp_matches_scipy_bvp() -> None:
    ref = _bvp_reference(_mlp(), MLP_A, MLP_B, bends=(0.5, -0.5))
    d = ng.geodesic_distance(
        ng.TorchResponseMap(_mlp(), dtype=torch.float64), MLP_A[None], MLP_B[None]
    )
    assert abs(float(d[0]) / min(ref) - 1) < 1e-8


def test_ring_population_arc_length_exact_and_sampled() -> None:
    """1-D ring: the distance is the arc length ∫‖r′‖dθ = √g |Δθ| (g constant)."""
    ring = ng.simulate.VonMisesRing(40, amplitude=10.0, kappa=2.0, baseline=1.0)
    exact = np.sqrt(ng.simulate.von_mises_metric(40, 10.0, 2.0))
    a, b = np.array([[0.5], [2.0]]), np.array([[2.5], [5.0]])
    prefs = torch.as_tensor(ring.preferred)
    rm = ng.TorchResponseMap(
        lambda x: 1.0 + 10.0 * torch.exp(2.0 * (torch.cos(x - prefs) - 1)), dtype=torch.float64
    )
    arc = [quad(lambda s: float(np.linalg.norm(ring.jacobian(np.array([[s]]))[0])), lo, hi)[0]
           for lo, hi in zip(a[:, 0], b[:, 0])]  # fmt: skip
    np.testing.assert_allclose(ng.geodesic_distance(rm, a, b), arc, rtol=1e-9)
    np.testing.assert_allclose(arc, exact * np.abs(b - a)[:, 0], rtol=1e-9)
    # Estimated from 120 orientations x 8 trials with the defaults (only the period given):
    # within 5% of the arc length, and nominal 95% intervals that cover it (the length
    # under the bias-corrected metric's resamples, not only its variance at a fixed width).
    X = np.linspace(0, 2 * np.pi, 120, endpoint=False)[:, None]
    truth = exact * np.abs(b - a)[:, 0]
    covered = []
    for seed in range(12):
        R = ring.sample(X, 8, noise=0.5, random_state=seed)
        params = {"period": [2 * np.pi]}
        sm = ng.SampledResponseMap(
            X, R, estimator_params=params, n_bootstrap=100, random_state=seed
        )
        ds = ng.geodesic(sm, a, b)
        assert ds.converged.values.all()
        assert (np.abs(ds.length.values / truth - 1) < 0.05).all()
        assert (ds.length_ci_low.values <= ds.length.values).all()
        assert (ds.length.values <= ds.length_ci_high.values).all()
        covered += list((ds.length_ci_low.values <= truth) & (truth <= ds.length_ci_high.values))
    assert np.mean(covered) >= 0.75  # 24 intervals; 0.92 over 40 data sets


def test_within_plane_and_line() -> None:
    """A flat map restricted to a plane or line through it: still ‖W(a − b)‖."""
    W = np.array([[1.0, 2.0, 0.0], [0.0, 3.0, 1.0], [1.0, -1.0, 2.0]])
    rm = ng.TorchResponseMap(lambda x: x @ torch.as_tensor(W).T, dtype=torch.float64)
    plane = ng.Plane(np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))
    a, b = plane.to_stimulus(np.array([[0.1, 0.2]])), plane.to_stimulus(np.array([[-0.5, 0.4]]))
    ds = ng.geodesic(rm, a, b, within=plane)
    np.testing.assert_allclose(ds.length.values, np.linalg.norm((a - b) @ W.T, axis=1), rtol=1e-12)
    assert ds.path_coordinates.shape[-1] == 2
    line = ng.Line(np.zeros(3), np.ones(3))
    d = ng.geodesic_distance(rm, np.zeros((1, 3)), np.full((1, 3), 0.5), within=line)
    np.testing.assert_allclose(d, [np.linalg.norm(W @ np.full(3, 0.5))], rtol=1e-12)
    with pytest.raises(ParameterError, match="away from the plane"):
        ng.geodesic(rm, np.zeros((1, 3)), a, within=plane)


def test_sphere_within_its_chart_plane_equals_full() -> None:
    """A plane that is the whole 2-D chart gives the same distance as no restriction."""
    rm = _sphere(1.5)
    plane = ng.Plane(np.array([1.0, 0.0]), np.array([2.0, 0.0]), np.array([1.0, 1.0]))
    a, b = _pairs(4, seed=9)
    np.testing.assert_allclose(
        ng.geodesic_distance(rm, a, b, within=plane), ng.geodesic_distance(rm, a, b), rtol=1e-10
    )


def test_distance_matrix_symmetric_and_consistent() -> None:
    rm = _sphere(2.0)
    pts = _pairs(5, seed=3)[0]
    M = ng.geodesic_distances(rm, pts)
    exact = 2.0 * np.arccos(np.clip(_unit(pts) @ _unit(pts).T, -1, 1))
    np.fill_diagonal(exact, 0.0)  # (arccos of a rounded 1 is ~1e-8, not 0)
    np.testing.assert_allclose(M, exact, rtol=1e-9)
    assert (M == M.T).all() and (np.diag(M) == 0).all()


def test_singular_metric_on_path_is_named() -> None:
    """The chart (θ, φ) degenerates at the pole θ = 0; a straight path through it is refused."""
    with pytest.raises(SingularMetricError, match="pair 1.*t = 0.5"):
        ng.geodesic(
            _sphere(1.0), np.array([[1.0, 0.0], [-0.5, 0.3]]), np.array([[1.2, 0.1], [0.5, 0.3]])
        )


def test_bad_inputs() -> None:
    rm = _sphere(1.0)
    a, b = _pairs(2, seed=0)
    with pytest.raises(ng.errors.ShapeError, match="rows"):
        ng.geodesic_distance(rm, a, b[:1])
    with pytest.raises(ParameterError, match="unknown option"):
        ng.geodesic_distance(rm, a, b, nodez=3)
    with pytest.raises(ConvergenceError, match="did not converge"):
        ng.geodesic_distance(rm, a, b, max_iter=1, starts=1)
    assert np.isnan(ng.geodesic_distance(rm, a, b, max_iter=1, starts=1, on_failure="nan")).all()
    two = ng.TorchResponseMap(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh()).double(),
                              layers=["0", "1"], dtype=torch.float64)  # fmt: skip
    with pytest.raises(LayerError, match="layer="):
        ng.geodesic(two, a, b)
    with pytest.raises(ng.errors.InputTypeError):
        ng.geodesic(rm, a, b, within="plane")


def test_discrimination_thresholds_gaussian_and_poisson() -> None:
    """F = JᵀΣ⁻¹J (Gaussian), F = Jᵀdiag(1/λ)J (Poisson); δ = d′/√(uᵀFu), axes 1/√eig."""
    W = np.array([[1.0, 0.5], [0.2, 2.0], [1.0, 1.0]])
    cov = np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.1], [0.0, 0.1, 0.5]])
    rm = ng.TorchResponseMap(lambda x: x @ torch.as_tensor(W).T, dtype=torch.float64)
    F = W.T @ np.linalg.solve(cov, W)
    U = np.array([[1.0, 0.0], [1.0, 1.0]])
    ds = ng.discrimination_thresholds(rm, np.zeros((2, 2)), U, d_prime=2.0, noise=cov)
    u = U / np.linalg.norm(U, axis=1, keepdims=True)
    expect = 2.0 / np.sqrt(np.einsum("qa,ab,qb->q", u, F, u))
    np.testing.assert_allclose(ds.threshold.values, np.tile(expect, (2, 1)), rtol=1e-12)
    ell = ng.discrimination_thresholds(rm, np.zeros((1, 2)), noise=cov)
    lam = np.linalg.eigvalsh(F)[::-1]
    np.testing.assert_allclose(ell.axis_length.values[0], 1 / np.sqrt(lam), rtol=1e-12)

    # Poisson on positive rates λ = softplus(Wx) + 1
    def rates(x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.softplus(x @ torch.as_tensor(W).T) + 1.0

    pm = ng.TorchResponseMap(rates, dtype=torch.float64)
    x = np.array([[0.3, -0.2]])
    lam_r = np.log1p(np.exp(W @ x[0])) + 1
    J = W / (1 + np.exp(-(W @ x[0])))[:, None]
    Fp = J.T @ (J / lam_r[:, None])
    got = ng.discrimination_thresholds(pm, x, np.eye(2), noise="poisson").threshold.values[0]
    np.testing.assert_allclose(got, 1 / np.sqrt(np.diag(Fp)), rtol=1e-10)
    # the Poisson Fisher length of a path is an accumulated d′: for a 1-D segment it is
    # ∫ √F dt, compared with quadrature on the closed form
    with pytest.raises(ParameterError, match="positive rates"):
        ng.discrimination_thresholds(rm, np.ones((1, 2)) * -5, noise="poisson")


def test_plots_draw_paths_and_matrix() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from neurogeom.plot import distance_matrix, geodesic_paths, threshold_ellipses

    rm = _sphere(1.0)
    plane = ng.Plane(np.array([1.0, 0.0]), np.array([2.0, 0.0]), np.array([1.0, 1.0]))
    a, b = _pairs(3, seed=2)
    ds = ng.geodesic(rm, a, b, within=plane)
    ax = geodesic_paths(ds, plane=plane)
    assert len(ax.lines) == 6  # a geodesic and a dashed straight segment per pair
    uv = np.stack(ax.lines[0].get_data(), 1)
    np.testing.assert_allclose(plane.to_stimulus(uv), ds.path.values[0], atol=1e-12)
    ax = distance_matrix(ng.geodesic_distances(rm, a), labels=[1, 0, 1])
    assert len(ax.images) == 1 and len(ax.lines) == 2  # one class boundary each way
    with pytest.raises(ParameterError, match="square"):
        distance_matrix(np.zeros((2, 3)))
    # ellipses: half-lengths 1/√λ of g = diag(1, sin²θ) on the unit sphere, at two points
    x = np.array([[np.pi / 2, 0.0], [np.pi / 6, 0.5]])
    ax = threshold_ellipses(ng.discrimination_thresholds(rm, x), x, scale=0.1)
    sizes = sorted((p.width, p.height) for p in ax.patches)
    np.testing.assert_allclose(sizes[0], [0.2, 0.2], rtol=1e-9)  # equator: a circle
    np.testing.assert_allclose(sorted(sizes[1]), [0.2, 0.4], rtol=1e-9)  # sin(π/6) = 1/2


def test_large_collocation_systems_solve_after_an_explicit_thread_setting():
    """Regression: after ``torch.set_num_threads(2)`` (which the shallow training loop calls
    when it restores the thread count), torch's batched LU of matrices larger than 128
    stopped with "Intel oneMKL ERROR: Parameter 6 was incorrect on entry to DLASWP" and
    hung; the Newton systems of a 100-node path are 198 × 198."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import numpy as np, torch
        torch.set_num_threads(2)
        import neurogeom as ng
        def sphere(x):
            th, ph = x[:, 0], x[:, 1]
            return torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], 1)
        rm = ng.TorchResponseMap(sphere, dtype=torch.float64)
        a, b = np.array([[1.0, 0.2], [1.3, 0.1]]), np.array([[2.0, 1.5], [0.8, 2.0]])
        d = ng.geodesic_distance(rm, a, b, nodes=100, starts=1)
        pa = np.stack([np.sin(a[:, 0]) * np.cos(a[:, 1]), np.sin(a[:, 0]) * np.sin(a[:, 1]), np.cos(a[:, 0])], 1)
        pb = np.stack([np.sin(b[:, 0]) * np.cos(b[:, 1]), np.sin(b[:, 0]) * np.sin(b[:, 1]), np.cos(b[:, 0])], 1)
        exact = np.arccos((pa * pb).sum(1))
        assert np.allclose(d, exact, rtol=1e-8), (d, exact)
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


# -- the response-space energy (method="energy", the default above 32 coordinates) --------


def test_energy_sphere_is_the_inscribed_regular_polygon() -> None:
    # The discrete geodesic of N equal steps on a sphere of radius a is the regular
    # polygon inscribed in the great circle: length 2aN sin(α / 2N) for the angle α.
    a, b = _pairs(6, seed=3)
    alpha = np.arccos(np.clip((_unit(a) * _unit(b)).sum(1), -1, 1))
    N = 32
    ds = ng.geodesic(_sphere(3.0), a, b, method="energy", nodes=N, tol=1e-12)
    assert ds.converged.values.all()
    assert json.loads(ds.attrs["config"])["method"] == "energy"
    np.testing.assert_allclose(ds.length.values, 6 * N * np.sin(alpha / (2 * N)), rtol=1e-8)
    np.testing.assert_allclose(ds.energy.values, ds.length.values**2, rtol=1e-8)  # equal steps
    np.testing.assert_allclose(np.diff(ds.t.values), 1 / N)
    normal = np.cross(_unit(a), _unit(b))  # on the great circle
    on = np.einsum("ptk,pk->pt", np.stack([_unit(q) for q in ds.path.values]), normal)
    assert np.abs(on).max() < 1e-4  # the path to ~√(tol); the length is stationary


def test_energy_is_the_default_in_many_dimensions_and_exact_for_a_flat_map() -> None:
    rng = np.random.default_rng(4)
    W = torch.as_tensor(rng.normal(size=(20, 50)))
    rm = ng.TorchResponseMap(lambda x: x @ W.T, dtype=torch.float64)
    a, b = rng.normal(size=(3, 50)), rng.normal(size=(3, 50))
    ds = ng.geodesic(rm, a, b)
    assert json.loads(ds.attrs["config"])["method"] == "energy"
    exact = np.linalg.norm((a - b) @ W.numpy().T, axis=1)
    np.testing.assert_allclose(ds.length.values, exact, rtol=1e-10)
    np.testing.assert_allclose(ds.straight_length.values, exact, rtol=1e-10)
    np.testing.assert_allclose(ng.geodesic_distance(rm, a, b), exact, rtol=1e-10)


def test_energy_length_is_below_the_smooth_geodesic_and_close_to_it() -> None:
    # L_N ≤ √E_N ≤ √(E_N of the smooth geodesic sampled at equal t) ≤ L: the discrete
    # minimiser's polygon is never longer than the exact geodesic (solved by collocation).
    rm = ng.TorchResponseMap(_mlp_gentle(), dtype=torch.float64)
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    exact = ng.geodesic(rm, a, b).length.values
    ds = ng.geodesic(rm, a, b, method="energy", nodes=64)
    assert ds.converged.values.all()
    assert (ds.length.values <= exact * (1 + 1e-9)).all()
    np.testing.assert_allclose(ds.length.values, exact, rtol=2e-4)
    assert (ds.energy.values <= ds.straight_energy.values).all()


def _mlp_gentle() -> torch.nn.Module:
    torch.manual_seed(7)
    return torch.nn.Sequential(
        torch.nn.Linear(2, 12), torch.nn.Tanh(), torch.nn.Linear(12, 6)
    ).double()


def test_energy_poisson_fisher_length_matches_collocation() -> None:
    torch.manual_seed(8)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Softplus()).double()
    rm = ng.TorchResponseMap(net, dtype=torch.float64)
    a, b = np.array([[-0.5, 0.2]]), np.array([[0.6, -0.4]])
    exact = ng.geodesic(rm, a, b, noise="poisson").length.values
    ds = ng.geodesic(rm, a, b, noise="poisson", method="energy", nodes=64)
    assert (ds.length.values <= exact * (1 + 1e-9)).all()
    np.testing.assert_allclose(ds.length.values, exact, rtol=1e-4)
    cov = np.diag(np.linspace(0.5, 2.0, 8))
    exact = ng.geodesic(rm, a, b, noise=cov).length.values
    ds = ng.geodesic(rm, a, b, noise=cov, method="energy", nodes=64)
    np.testing.assert_allclose(ds.length.values, exact, rtol=1e-4)


def test_energy_through_a_conv_net_in_image_space() -> None:
    torch.manual_seed(9)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Tanh(), torch.nn.Conv2d(4, 4, 3, 2)
    ).double()
    rm = ng.TorchResponseMap(net, dtype=torch.float64)
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(2, 3, 8, 8)), rng.normal(size=(2, 3, 8, 8))
    ds = ng.geodesic(rm, a, b, nodes=16)
    assert ds.path.dims == ("pair", "t", "stimulus_0", "stimulus_1", "stimulus_2")
    np.testing.assert_array_equal(ds.path.values[:, 0], a)
    np.testing.assert_array_equal(ds.path.values[:, -1], b)
    assert (ds.energy.values < 0.99 * ds.straight_energy.values).all()
    assert (ds.length.values < ds.straight_length.values).all()
    # the length is the polygon's through the responses of the returned path
    r = rm.responses(ds.path.values.reshape(-1, 3, 8, 8)).reshape(2, 17, -1)
    np.testing.assert_allclose(
        ds.length.values, np.linalg.norm(np.diff(r, axis=1), axis=2).sum(1), rtol=1e-12
    )


def test_energy_refused_for_estimated_maps() -> None:
    X = np.linspace(0, 2 * np.pi, 24, endpoint=False)[:, None]
    pop = ng.simulate.VonMisesRing(12, amplitude=5.0, kappa=2.0, baseline=1.0)
    R = pop.sample(X, 4, random_state=0)
    rm = ng.SampledResponseMap(X, R, estimator_params={"period": [2 * np.pi]})
    with pytest.raises(ParameterError, match="method='metric'"):
        ng.geodesic(rm, X[:1], X[3:4], method="energy")


def test_a_path_leaving_the_grid_is_not_a_geodesic_within_it() -> None:
    # The great circle from (θ, φ) = (1, 0) to (1, 2) bends towards the pole (θ < 1).
    grid = ng.Grid([(1.0, 2.0), (-0.5, 2.5)], resolution=5)
    a, b = np.array([[1.0, 0.0], [1.5, 0.0]]), np.array([[1.0, 2.0], [1.6, 0.5]])
    ds = ng.geodesic(_sphere(1.0), a, b, within=grid)
    assert ds.inside.values.tolist() == [False, True]
    assert ds.converged.values.tolist() == [False, True]
    with pytest.raises(ConvergenceError, match="leave the grid"):
        ng.geodesic_distance(_sphere(1.0), a, b, within=grid)
