"""Peak memory of ``ng.geometry`` on a plane of images, for several block sizes.

Run on demand: ``python benchmarks/bench_memory.py [--resolution 200] [--blocks 64 1024]``.
Each measurement runs in a fresh process (peak RSS is a high-water mark) and prints the
process's peak resident memory after imports (the baseline, measured in the same run) and
after ``ng.geometry`` on a ``resolution × resolution`` plane of 3 × 32 × 32 images through a
small conv net, with the size the points alone would take if the slice were materialised.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
import neurogeom as ng

resolution, block = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.Flatten(),
    torch.nn.Linear(8 * 15 * 15, 32),
)
rm = ng.TorchResponseMap(net)
rng = np.random.default_rng(0)
a, b, c = (rng.uniform(size=(3, 32, 32)) for _ in range(3))
ng.geometry(rm, ng.Plane(a, b, c, resolution=2), progress=False)  # warm up
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if block > 0:
    ds = ng.geometry(rm, ng.Plane(a, b, c, resolution=resolution), block_size=block, progress=False)
else:  # the materialised baseline: every point built at once, then measured
    plane = ng.Plane(a, b, c, resolution=resolution)
    ds = ng.geometry(rm, ng.Points(plane.points, plane.tangents), block_size=256, progress=False)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"base_mib": base / 1024, "peak_mib": peak / 1024, "seconds": seconds,
                  "finite": bool(np.isfinite(ds.log_volume_element.values).all())}))
"""


def measure(resolution: int, block: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(resolution), str(block)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=200)
    parser.add_argument("--blocks", type=int, nargs="+", default=[64, 1024])
    args = parser.parse_args()
    points_mib = args.resolution**2 * 3 * 32 * 32 * 8 / 2**20
    print(
        f"ng.geometry on a {args.resolution} x {args.resolution} plane of 3x32x32 images "
        f"(the points alone: {points_mib:.0f} MiB in float64)"
    )
    print(f"{'block_size':>24}{'peak RSS MiB':>14}{'above imports':>15}{'seconds':>9}")
    rows = [(str(b), measure(args.resolution, b)) for b in args.blocks]
    rows.append(("materialised, 256", measure(args.resolution, 0)))
    for name, r in rows:
        extra = r["peak_mib"] - r["base_mib"]
        print(f"{name:>24}{r['peak_mib']:>14.0f}{extra:>15.0f}{r['seconds']:>9.1f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(
        f"({time.perf_counter() - start:.0f} s, {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB peak of any child)"
    )
