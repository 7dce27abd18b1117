import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import neurogeom as ng
from neurogeom.models import ShallowNet
from neurogeom.pipeline import NetworkGeometry, SampledGeometry


class AnyWidth(torch.nn.Module):
    """x -> u + 0.5 sin(u), u = W x with a fixed random W built from the input width.

    The nonlinearity's slope lies in [0.5, 1.5], so the metric is positive definite
    whenever W (64 x d) has rank d: usable for any number of features.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x.shape[1]
        W = torch.as_tensor(np.random.default_rng(d).normal(size=(64, d)), dtype=x.dtype)
        u = x @ W.T / np.sqrt(d)
        return u + 0.5 * torch.sin(u)


CHECKED = [
    NetworkGeometry(AnyWidth(), features=("log_volume_element", "eigenvalues")),
    SampledGeometry(
        bandwidth=1e3, correction=None, domain=None, rank="auto", features=("log_volume_element",)
    ),
]


def expected_failures(estimator):
    return {}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def shallow(seed=0):
    torch.manual_seed(seed)
    return ShallowNet(3, (6, 5), n_classes=3).double()


def stimuli(m=12, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(m, d))


def test_network_features_are_the_geometry_values():
    net = shallow()
    T = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 2)))[0].T  # (2, 3) orthonormal
    feats = ("log_volume_element", "metric", "eigenvalues")
    tr = NetworkGeometry(net, layers=["hidden0", "hidden1"], tangents=T, features=feats)
    X = stimuli()
    out = tr.fit(X).transform(X)
    names = tr.get_feature_names_out().tolist()
    assert out.shape == (12, 2 * (1 + 3 + 2)) and len(names) == out.shape[1]
    assert names[:6] == [
        "hidden0_log_volume_element",
        "hidden0_metric_0_0",
        "hidden0_metric_0_1",
        "hidden0_metric_1_1",
        "hidden0_eigenvalue_0",
        "hidden0_eigenvalue_1",
    ]
    rm = ng.TorchResponseMap(net, "hidden1")
    g = rm.metric(X, tangents=T)
    np.testing.assert_allclose(out[:, 6], 0.5 * np.linalg.slogdet(g)[1], rtol=1e-12)
    np.testing.assert_allclose(out[:, 7:10], g[:, [0, 0, 1], [0, 1, 1]], rtol=1e-12)
    np.testing.assert_allclose(out[:, 10:], np.linalg.eigvalsh(g)[:, ::-1], rtol=1e-12)
    ds = tr.to_dataset(X)
    assert ds.log_volume_element.dims == ("layer", "point")
    np.testing.assert_array_equal(ds.log_volume_element.sel(layer="hidden1"), out[:, 6])


def test_pandas_output_and_feature_names_in():
    X = pd.DataFrame(stimuli(), columns=["a", "b", "c"])
    tr = NetworkGeometry(shallow(), layers="hidden0", features=("eigenvalues",))
    out = tr.set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [
        "hidden0_eigenvalue_0",
        "hidden0_eigenvalue_1",
        "hidden0_eigenvalue_2",
    ]
    assert list(tr.feature_names_in_) == ["a", "b", "c"]


def test_clone_shares_the_model_and_grid_search_works():
    from sklearn.linear_model import LogisticRegression

    net = shallow()
    tr = NetworkGeometry(net, layers="hidden0")
    twin = clone(tr)
    assert twin.model is net and twin is not tr
    X = stimuli(60, seed=3)
    y = (X[:, 0] > 0).astype(int)
    pipe = make_pipeline(tr, StandardScaler(), LogisticRegression())
    search = GridSearchCV(
        pipe, {"networkgeometry__layers": ["hidden0", "hidden1"]}, cv=KFold(3)
    ).fit(X, y)
    assert search.best_estimator_[0].model is net
    assert set(search.cv_results_["param_networkgeometry__layers"]) == {"hidden0", "hidden1"}


def test_flattened_images_with_stimulus_shape():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 4), torch.nn.Tanh()).double()
    images = np.random.default_rng(0).normal(size=(5, 3, 2, 2))
    T = np.linalg.qr(np.random.default_rng(1).normal(size=(12, 2)))[0].T
    tr = NetworkGeometry(net, tangents=T, stimulus_shape=(3, 2, 2))
    out = tr.fit_transform(images.reshape(5, -1))
    rm = ng.TorchResponseMap(net)
    g = rm.metric(images, tangents=T.reshape(2, 3, 2, 2))
    np.testing.assert_allclose(out[:, 0], 0.5 * np.linalg.slogdet(g)[1], rtol=1e-12)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"model": None}, "model"),
        ({"features": ("volume",)}, "features"),
        ({"tangents": np.eye(2)}, "tangents"),
        ({"stimulus_shape": (2, 2)}, "stimulus_shape"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_bad_parameters_are_refused_in_fit(params, match):
    tr = NetworkGeometry(AnyWidth()).set_params(**params)
    with pytest.raises(ValueError, match=match):
        tr.fit(stimuli())


def population_data(n=300, seed=0, noise=0.05):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    R = np.c_[np.sin(2 * X[:, 0]), X[:, 1] ** 2, X[:, 0] * X[:, 1]]
    return X, R + noise * rng.normal(size=R.shape)


def test_grid_search_chooses_the_bandwidth_with_least_held_out_error():
    X, R = population_data(noise=0.3)
    grid = [0.15, 0.25, 0.6, 2.0]
    cv = KFold(4, shuffle=True, random_state=0)
    search = GridSearchCV(SampledGeometry(domain=None), {"bandwidth": grid}, cv=cv).fit(X, R)
    # independent: fit the estimator directly on each training fold
    manual = []
    for h in grid:
        errs = []
        for train, test in cv.split(X):
            est = ng.estimators.LocalPolynomial(bandwidth=h).fit(X[train], R[train])
            errs.append(((est.predict(X[test]) - R[test]) ** 2).mean())
        manual.append(-np.mean(errs))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], manual, rtol=1e-10)
    assert search.best_params_["bandwidth"] == grid[int(np.argmax(manual))]
    assert search.best_params_["bandwidth"] == 0.25  # interior: neither extreme


def test_sampled_features_are_the_estimated_geometry():
    X, R = population_data()
    queries = np.random.default_rng(5).uniform(-0.5, 0.5, (7, 2))
    tr = SampledGeometry(bandwidth=0.3, features=("log_volume_element", "metric")).fit(X, R)
    out = tr.transform(queries)
    rm = ng.SampledResponseMap(X, R, estimator_params={"bandwidth": 0.3})
    ds = ng.geometry(rm, ng.Points(queries))
    np.testing.assert_array_equal(out[:, 0], ds.log_volume_element.values)
    np.testing.assert_array_equal(out[:, 1:], ds.metric.values[:, [0, 0, 1], [0, 1, 1]])
    assert tr.get_feature_names_out().tolist()[:2] == [
        "responses_log_volume_element",
        "responses_metric_0_0",
    ]
    assert tr.predict(queries).shape == (7, 3)
    with pytest.raises(ng.errors.OutOfDomainError):
        tr.transform(np.array([[3.0, 3.0]]))
