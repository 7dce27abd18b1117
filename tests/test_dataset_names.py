"""No name in a geometry Dataset shadows an xarray.Dataset attribute.

``ds.rank`` must be the variable a user wrote, not xarray's ``Dataset.rank`` method: every
variable a producer can register, every dim it adds and every name it writes must be free.
"""

import numpy as np
import pytest
import torch
import xarray as xr

import neurogeom as ng
import neurogeom.experiments  # registers the experiments' own variables
from neurogeom import simulate as sim
from neurogeom.dataset import VARIABLES, add_variables, register_variables
from neurogeom.errors import ParameterError, VariableError

TAKEN = frozenset(dir(xr.Dataset))


def test_registered_variables_and_their_dims_shadow_no_dataset_attribute():
    names = set(VARIABLES) | {"anchors"}  # anchors: written by build_dataset itself
    dims = {dim for extra, _, _ in VARIABLES.values() for dim in extra}
    assert not names & TAKEN, f"variables shadow xr.Dataset attributes: {sorted(names & TAKEN)}"
    assert not dims & TAKEN, f"dims shadow xr.Dataset attributes: {sorted(dims & TAKEN)}"


def test_registering_a_variable_refuses_conflicts_and_shadowing_names():
    entry = ((), "a test variable", "1")
    try:
        register_variables({"layers_test_variable": entry})
        register_variables({"layers_test_variable": entry})  # the same entry again: no-op
        ds = add_variables(xr.Dataset(), {"layers_test_variable": ((), 1.0)})
        assert ds.layers_test_variable.attrs == {"long_name": "a test variable", "units": "1"}
        with pytest.raises(VariableError, match="registered already"):
            register_variables({"layers_test_variable": ((), "something else", "1")})
    finally:
        VARIABLES.pop("layers_test_variable", None)
    with pytest.raises(VariableError, match="shadow"):
        register_variables({"fine_name": (("sizes",), "x", "1")})
    with pytest.raises(ParameterError, match="expected"):
        register_variables({"fine_name": ("eigen", "x", "1")})  # dims must be a tuple
    assert "fine_name" not in VARIABLES
    with pytest.raises(VariableError, match="register_variables"):
        add_variables(xr.Dataset(), {"never_registered": ((), 1.0)})


def test_produced_datasets_shadow_no_dataset_attribute():
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    rm = ng.TorchResponseMap(net.double(), layers=["1", "2"], dtype=torch.float64)
    grid = ng.geometry(rm, ng.Grid([(-1, 1), (-1, 1)], resolution=3), classifier=net.double())
    plane = ng.geometry(rm, ng.Plane([0.0, 0.0], [1.0, 0.0], [0.0, 1.0], resolution=3), rank="auto")
    pop = sim.LinearPopulation(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    X = pop.uniform_stimuli(200, random_state=0)
    R = pop.sample(X, 3, noise=0.1, random_state=1)
    sampled = ng.SampledResponseMap(X, R, estimator_params={"bandwidth": 0.5}, n_bootstrap=5)
    line = ng.geometry(sampled, ng.Line([-0.5, 0.0], [0.5, 0.0], steps=3), keep_resamples=True)
    for ds in (grid, plane, line):
        names = {str(n) for n in (*ds.data_vars, *ds.coords, *ds.dims)}
        assert not sorted(names & TAKEN), (ds.attrs["slice"], sorted(names & TAKEN))
    assert "metric_rank" in grid and "metric_rank" in line
