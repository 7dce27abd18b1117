"""Closed-form geometry of a one-hidden-layer sigmoid network on a 2-D input.

For Φⱼ(x) = σ(wⱼ·x + bⱼ)/√n (``ShallowNet(2, n, c)``), ``reference/ground_truth.md`` gives

* g = (1/n) Σⱼ φ′(zⱼ)² wⱼ wⱼᵀ,
* det g = (1/n²) Σ_{j<k} φ′(zⱼ)² φ′(z_k)² m_jk² (Cauchy–Binet: a sum of positive terms, so
  accurate to rounding even where g is nearly singular and an eigen-solver is not),
* R = − Σ_{i,j,k} m_jk² m_ij m_ik φ′ᵢ² (φ′ⱼ φ″ⱼ)(φ′_k φ″_k) / (n³ (det g)²),
  m_jk = w_j1 w_k2 − w_j2 w_k1.

The triple sum is contracted in O(n) per point: with E the 90° rotation, m_ij = wᵢᵀ E wⱼ and
Σᵢ φ′ᵢ² m_ij m_ik = wⱼᵀ Eᵀ (n g) E w_k, so the sum is Σ M_pq E_rs E_tu T_prt T_qsu with
M = Eᵀ (n g) E and T_prt = Σⱼ φ′ⱼ φ″ⱼ w_jp w_jr w_jt.

Note for consolidation: the curvature work adds general closed forms in
``neurogeom/geometry/shallow.py``; this module is the experiments' private copy for the
sigmoid, d = 2 case and should be replaced by it once that lands.
"""

from __future__ import annotations

import torch

from ..models import ShallowNet

__all__ = ["shallow_closed_form"]

_ROT = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)


def shallow_closed_form(net: ShallowNet, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Metric, log-volume and Ricci scalar of ``net``'s hidden layer at 2-D points ``x``.

    Parameters
    ----------
    net : ShallowNet
        One hidden sigmoid layer on a 2-D input.
    x : tensor, shape (m, 2)

    Returns
    -------
    dict of float64 tensors
        ``metric`` (m, 2, 2), ``log_volume_element`` (m,) = ½ log det g and
        ``ricci_scalar`` (m,).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> out = shallow_closed_form(ShallowNet(2, 5), torch.zeros(3, 2))
    >>> out["metric"].shape, out["ricci_scalar"].shape
    (torch.Size([3, 2, 2]), torch.Size([3]))
    """
    if len(net.widths) != 1 or net.activation != "sigmoid":
        raise ValueError(
            f"closed form needs one sigmoid hidden layer; got widths {net.widths} "
            f"and activation {net.activation!r}."
        )
    layer = net.get_submodule("hidden0.linear")
    W = layer.get_parameter("weight").detach().to(torch.float64)
    b = layer.get_parameter("bias").detach().to(torch.float64)
    if W.shape[1] != 2:
        raise ValueError(f"closed form is for 2-D inputs; the net takes {W.shape[1]}.")
    n = W.shape[0]
    x = torch.as_tensor(x, dtype=torch.float64)
    s = torch.sigmoid(x @ W.T + b)  # (m, n)
    d1 = s * (1 - s)
    d2 = d1 * (1 - 2 * s)
    G = torch.einsum("mj,jp,jq->mpq", d1**2, W, W)  # n g
    g = G / n
    det = _cauchy_binet_det(d1**2, W) / n**2
    if torch.any(det <= 0):
        raise ValueError("the metric is singular at some points; the closed form needs det g > 0.")
    M = torch.einsum("rp,mrs,sq->mpq", _ROT, G, _ROT)
    T = torch.einsum("mj,jp,jr,jt->mprt", d1 * d2, W, W, W)
    S = torch.einsum("mpq,rs,tu,mprt,mqsu->m", M, _ROT, _ROT, T, T)
    ricci = -S / (n**3 * det**2)
    return {"metric": g, "log_volume_element": 0.5 * torch.log(det), "ricci_scalar": ricci}


def _cauchy_binet_det(a: torch.Tensor, W: torch.Tensor, block: int = 128) -> torch.Tensor:
    """Σ_{j<k} a_j a_k m_jk² per point: ``a`` (m, n) weights, ``W`` (n, 2) rows wⱼ."""
    j, k = torch.triu_indices(W.shape[0], W.shape[0], offset=1)
    m2 = (W[j, 0] * W[k, 1] - W[j, 1] * W[k, 0]) ** 2  # (pairs,)
    out = [(a[i : i + block, j] * a[i : i + block, k]) @ m2 for i in range(0, len(a), block)]
    return torch.cat(out) if out else a.new_zeros(0)
