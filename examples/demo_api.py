"""The `neurogeom demo` job through the library API, with its own settings.

Run: python examples/demo_api.py [--out folder] [--epochs 2000]
"""

import argparse

from neurogeom.experiments.demo import DemoConfig, run_demo

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="neurogeom-runs/demo-api")
parser.add_argument("--epochs", type=int, default=2000)
parser.add_argument("--width", type=int, default=25)
args = parser.parse_args()

paths = run_demo(args.out, DemoConfig(epochs=args.epochs, width=args.width))
print(paths)
