"""Speed-up of :func:`neurogeom.scale.lazy_geometry` on a 2-worker ``LocalCluster``.

Run on demand: ``python benchmarks/bench_dask.py [--points 4096] [--width 512]``.
Measures, on the same network and points, in one run:

(a) eager ``ng.geometry`` with torch's default intra-op threads (all cores);
(b) eager ``ng.geometry`` with one torch thread;
(c) ``client.compute(lazy_geometry(...))`` on ``distributed.LocalCluster(n_workers=2,
    threads_per_worker=1, processes=True)`` — the cluster is started by this script (the
    library never starts one), and its start-up is reported separately, not timed in (c).

(c) runs twice: with distributed's default worker environment, and with its
``MALLOC_TRIM_THRESHOLD_=65536`` left out (that setting hands torch's large temporaries
back to the OS after every block, and costs 1.5-3x per block here; the nanny also writes
it into this process's environment, which later clusters inherit, so it is removed here
before the second cluster starts). Both are checked to equal (a) exactly. Every process
is warmed up first (the first ``torch.func`` call in a process costs seconds), each timing
is the best of ``--repeats``. The speed-ups printed are (a) / (c) and (b) / (c).
On a machine shared with other jobs the numbers move; rerun to see the spread.
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial

import dask
import numpy as np
import torch
import xarray as xr

import neurogeom as ng
from neurogeom.models import ShallowNet
from neurogeom.scale import lazy_geometry

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _run(client, lazy):  # type: ignore[no-untyped-def]
    return client.compute(lazy).result()


def best_of(fn, repeats):  # type: ignore[no-untyped-def]
    """Result and best wall time of ``repeats`` calls (each process is warmed up first)."""
    runs = [timed(fn) for _ in range(repeats)]
    return runs[0][0], min(t for _, t in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4096)
    parser.add_argument("--dim", type=int, default=32, help="stimulus dimension d")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    torch.manual_seed(0)
    model = ShallowNet(args.dim, (args.width, args.width), n_classes=10).double()
    rm = ng.TorchResponseMap(model, model.hidden_layers)
    points = ng.Points(np.random.default_rng(0).normal(size=(args.points, args.dim)))
    kwargs = {"block_size": args.block_size, "keep_metric": False}
    print(f"{args.points} points, d = {args.dim}, two layers of width {args.width}, float64")
    print(f"full-space {args.dim}x{args.dim} metrics, blocks of {args.block_size} points\n")

    def warm() -> None:  # the first torch.func call in a process pays a one-off set-up
        ng.geometry(rm, ng.Points(points.points[:8]), **kwargs)

    warm()
    eager, t_all = best_of(lambda: ng.geometry(rm, points, **kwargs), args.repeats)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    _, t_one = best_of(lambda: ng.geometry(rm, points, **kwargs), args.repeats)
    torch.set_num_threads(threads)

    rows = []
    for label, environ in (
        ("distributed defaults", None),
        ("MALLOC_TRIM_THRESHOLD_ unset", {k: 1 for k in THREAD_VARS}),
    ):
        config = {} if environ is None else {"distributed.nanny.pre-spawn-environ": environ}
        if environ is not None:  # the nanny also wrote its defaults into this process's env
            os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        with dask.config.set(config):
            (cluster, client), t_start = timed(
                lambda: (
                    c := LocalCluster(
                        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
                    ),
                    Client(c),
                )
            )
        with cluster, client:
            client.run(warm)  # imports and torch.func set-up on every worker
            lazy = lazy_geometry(rm, points, **kwargs)
            result, t_dask = best_of(partial(_run, client, lazy), args.repeats)
        xr.testing.assert_identical(result, eager)
        rows.append((label, t_dask, t_start))

    print(f"{'eager, ' + str(threads) + ' torch threads':<58}{t_all:8.2f} s")
    print(f"{'eager, 1 torch thread':<58}{t_one:8.2f} s")
    for label, t_dask, _ in rows:
        print(f"{'dask, 2 workers x 1 thread, ' + label:<58}{t_dask:8.2f} s")
    print(f"{'(cluster start-up, not included above)':<58}{rows[0][2]:8.2f} s")
    for label, t_dask, _ in rows:
        print(f"\nspeed-up, {label}:")
        print(f"  vs eager ({threads} threads): {t_all / t_dask:.2f}x")
        print(f"  vs eager (1 thread):  {t_one / t_dask:.2f}x")
    print("results identical: yes")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
