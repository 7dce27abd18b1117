"""Exact Jacobians, pullback metrics and log-volumes of a torch network.

Run: python examples/jacobians_and_metrics.py
"""

import numpy as np
import torch

import neurogeom as ng

torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Linear(3, 64), torch.nn.GELU(), torch.nn.Linear(64, 32), torch.nn.Tanh()
)
x = np.random.default_rng(0).normal(size=(10, 3))

# one layer -> arrays; several layers -> dicts keyed by module name
rm = ng.TorchResponseMap(net, layers="3", dtype=torch.float64)
J = rm.jacobian(x)  # (10, 32, 3)
g = rm.metric(x)  # (10, 3, 3) = JᵀJ
print("Jacobian", J.shape, "metric", g.shape)
print("log volume element ½ log det g:", np.round(ng.log_volume_element(g), 3))
print("spectrum of g at the first point:", ng.metric_spectrum(g)[0])

both = ng.TorchResponseMap(net, layers=["1", "3"], dtype=torch.float64).metric(x)
print("layers measured in one pass:", {name: m.shape for name, m in both.items()})

# the metric induced on a 2-plane, from 2 Jacobian-vector products per point
T = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 2)))[0].T
g_plane = rm.metric(x, tangents=T)
assert np.allclose(g_plane, T @ g @ T.T)
print("plane-induced metric", g_plane.shape, "equals T g Tᵀ")

# a layer narrower than the input has a singular metric: ask for a pseudo-determinant
narrow = ng.TorchResponseMap(lambda z: z[:, :2] ** 2, dtype=torch.float64)
logvol, rank = ng.log_volume_element(narrow.metric(x + 2.0), rank="auto", return_rank=True)
print("rank used:", rank[:3], "log pseudo-volume:", np.round(logvol[:3], 3))
