"""Per-scan-point cost of the metric of a CIFAR ResNet-34's pooled features, in one run.

Builds a CIFAR-style ResNet-34 (GELU, random weights, eval mode), a plane through three
random images (``neurogeom.slices.Plane``), and on the same device and weights times

(a) the reference way: ``torch.autograd.functional.jacobian`` of the batch-summed pooled
    features, ``vectorize=False`` (one backward pass per feature), 5 points at a time;
(b) neurogeom's full-space metric ``rm.metric(x)`` (d = 3072);
(c) neurogeom's metric induced on the plane ``rm.metric(x, tangents=plane.tangents)``;
(d) a batched forward pass;
and, to show where the time goes, (a') and (b') the Jacobians alone, without the Gram
product ``Jᵀ J`` (``rm.jacobian(x)`` for neurogeom);

checks (b) against (a) and (c) against ``T g Tᵀ`` from (b), and prints ms per point, the
ratios to (d) and to (a), the peak GPU memory of each method (CUDA only) and the
extrapolated time of a 6400-point (80 × 80) plane.

On CUDA it runs the real network (``--width 1``). Without CUDA it runs on the CPU at reduced
width (default ``--width 0.125``: stage widths 8/16/32/64, 64 pooled features) and says so;
those numbers are not comparable with GPU numbers.

Usage::

    python benchmarks/bench_resnet.py                 # everything, defaults per device
    python benchmarks/bench_resnet.py --width 1 --device cuda --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import neurogeom as ng
from neurogeom.models import ResNet
from neurogeom.slices import Plane

PLANE_POINTS = 6400


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


CLOCK: Callable[[], float] = time.perf_counter


def timed(fn: Callable[[], Any], device: torch.device, repeats: int) -> tuple[float, Any, int]:
    """Best time of ``repeats`` calls after one warm-up (by ``CLOCK``), last result, peak bytes."""
    out = fn()
    _sync(device)
    best = math.inf
    peak = 0
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        t0 = CLOCK()
        out = fn()
        _sync(device)
        best = min(best, CLOCK() - t0)
        if device.type == "cuda":
            peak = max(peak, torch.cuda.max_memory_allocated(device))
    return best, out, peak


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else the platform's processor string."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cuda or cpu")
    p.add_argument("--depth", type=int, default=34, choices=[18, 34])
    p.add_argument("--width", type=float, default=None, help="1 on CUDA, 0.125 on CPU")
    p.add_argument("--points", type=int, default=None, help="plane points timed in (c), (d)")
    p.add_argument("--full-points", type=int, default=None, help="points timed in (b)")
    p.add_argument("--ref-points", type=int, default=5, help="points per reference call")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--chunk-size", type=int, default=4096)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall time, or CPU time of this process (steadier on a shared CPU; CPU only)",
    )
    p.add_argument("--json", default=None, help="also write the numbers here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    dev = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
    )
    cuda = dev.type == "cuda"
    if a.clock == "cpu":
        if cuda:
            raise SystemExit("--clock cpu measures CPU work only; use wall time on CUDA.")
        global CLOCK
        CLOCK = time.process_time
    width = a.width if a.width is not None else (1.0 if cuda else 0.125)
    n_plane = a.points if a.points is not None else (1024 if cuda else 64)
    n_full = a.full_points if a.full_points is not None else (32 if cuda else 5)
    n_ref = a.ref_points

    torch.manual_seed(a.seed)
    net = ResNet(a.depth, 10, activation="gelu", width=width).to(dev).eval()
    features = net.features
    side = max(1, math.isqrt(n_plane))
    gen = np.random.default_rng(a.seed)
    anchors = gen.standard_normal((3, 3, 32, 32)).astype(np.float32)
    plane = Plane(*anchors, resolution=side)
    pts = torch.as_tensor(plane.points, dtype=torch.float32, device=dev)
    T = torch.as_tensor(plane.tangents, dtype=torch.float32, device=dev)
    rm = ng.TorchResponseMap(net, layers="pool", chunk_size=a.chunk_size)
    d = 3 * 32 * 32
    n = net.feature_dim

    kind = torch.cuda.get_device_name(dev) if cuda else f"{cpu_name()}, {os.cpu_count()} cores"
    print(f"device: {kind}; torch {torch.__version__}; neurogeom {ng.__version__}")
    omp = os.environ.get("OMP_NUM_THREADS")
    print(f"threads: {torch.get_num_threads()}; OMP_NUM_THREADS={omp}; clock: {a.clock}")
    if not cuda:
        print(
            f"NOTE: no CUDA device - CPU variant at reduced width {width} "
            f"(stage widths {net.widths}); not comparable with GPU figures."
        )
    print(f"ResNet-{a.depth}, GELU, width x{width}: {n}-d pooled features, d = {d}, float32")
    print(f"plane points timed: {len(pts)}; full-space points: {n_full}; reference: {n_ref}")

    rows: dict[str, dict[str, float]] = {}

    # (d) batched forward pass
    with torch.no_grad():
        t, _, peak = timed(lambda: features(pts), dev, a.repeats)
    rows["forward"] = {"ms": 1e3 * t / len(pts), "peak": peak}

    # (a) the reference way
    x_ref = pts[:n_ref].clone()

    def reference_jacobian() -> torch.Tensor:
        J = torch.autograd.functional.jacobian(lambda z: features(z).sum(0), x_ref, vectorize=False)
        return J.reshape(n, n_ref, d).permute(1, 0, 2)

    def reference() -> torch.Tensor:
        J = reference_jacobian()
        return J.mT @ J

    t, g_ref, peak = timed(reference, dev, 1)
    rows["reference"] = {"ms": 1e3 * t / n_ref, "peak": peak}
    t, _, peak = timed(reference_jacobian, dev, 1)
    rows["reference_jacobian"] = {"ms": 1e3 * t / n_ref, "peak": peak}

    # (b) neurogeom full-space metric
    x_full = pts[: max(n_full, n_ref)]
    t, g_full, peak = timed(lambda: rm.metric(x_full), dev, a.repeats)
    rows["full"] = {"ms": 1e3 * t / len(x_full), "peak": peak}

    # (b') the Jacobian alone, to separate it from forming the d x d metric
    t, _, peak = timed(lambda: rm.jacobian(x_full), dev, a.repeats)
    rows["full_jacobian"] = {"ms": 1e3 * t / len(x_full), "peak": peak}

    # (c) neurogeom plane-induced metric
    t, g_plane, peak = timed(lambda: rm.metric(pts, tangents=T), dev, a.repeats)
    rows["plane"] = {"ms": 1e3 * t / len(pts), "peak": peak}

    # checks
    scale = g_ref.abs().amax(dim=(1, 2), keepdim=True)
    err_full = float(((g_full[:n_ref] - g_ref).abs() / scale).max())
    Tf = T.reshape(T.shape[0], -1)
    projected = Tf @ g_full @ Tf.mT
    pscale = projected.abs().amax(dim=(1, 2), keepdim=True)
    err_plane = float(((g_plane[: len(x_full)] - projected).abs() / pscale).max())
    print(f"check (b) vs (a): max |g_full - g_ref| / max|g_ref| = {err_full:.2e}")
    print(f"check (c) vs T g Tᵀ from (b): max relative difference = {err_plane:.2e}")
    ok = err_full < 1e-3 and err_plane < 1e-3

    fwd, ref = rows["forward"]["ms"], rows["reference"]["ms"]
    labels = {
        "forward": "(d) batched forward pass",
        "reference": "(a) reference: autograd.functional.jacobian, 5 points",
        "reference_jacobian": "(a') of which: the reference Jacobian alone",
        "full": "(b) neurogeom full-space metric (d = 3072)",
        "full_jacobian": "(b') of which: the full Jacobian alone (rm.jacobian)",
        "plane": "(c) neurogeom metric induced on the plane (k = 2)",
    }
    print()
    head = "| method | ms / point | × forward | reference ÷ method | 6400-point plane |"
    if cuda:
        head += " peak GPU memory |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    keys = ("reference", "reference_jacobian", "full", "full_jacobian", "plane", "forward")
    for key in keys:
        ms = rows[key]["ms"]
        plane_s = PLANE_POINTS * ms / 1e3
        total = f"{plane_s / 60:.1f} min" if plane_s >= 120 else f"{plane_s:.2f} s"
        line = f"| {labels[key]} | {ms:.3g} | {ms / fwd:.3g} | {ref / ms:.3g} | {total} |"
        if cuda:
            line += f" {rows[key]['peak'] / 2**30:.2f} GiB |"
        print(line)
    print()
    print("checks passed" if ok else "CHECKS FAILED")
    if a.json:
        record = {
            "device": kind,
            "cuda": cuda,
            "torch": str(torch.__version__),
            "neurogeom": ng.__version__,
            "clock": a.clock,
            "depth": a.depth,
            "width": width,
            "features": n,
            "points": {"plane": len(pts), "full": len(x_full), "reference": n_ref},
            "rows": rows,
            "checks": {"full_vs_reference": err_full, "plane_vs_projected": err_plane},
        }
        with open(a.json, "w") as f:
            json.dump(record, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
