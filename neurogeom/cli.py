"""The ``neurogeom`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from .experiments.demo import DemoConfig, run_demo

    config = DemoConfig(epochs=args.epochs, width=args.width, resolution=args.resolution,
                        seed=args.seed)
    paths = run_demo(args.out, config)
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}")
    print(f"output folder: {Path(args.out).resolve()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neurogeom`` command."""
    parser = argparse.ArgumentParser(
        prog="neurogeom", description="Riemannian geometry of neural representations."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="train the poster's 2 → 25 sigmoid net on the sinusoid task and map its volume element",
    )
    demo.add_argument("--out", type=Path, default=Path("neurogeom-runs/demo"), help="output folder")
    demo.add_argument("--epochs", type=int, default=2000)
    demo.add_argument("--width", type=int, default=25)
    demo.add_argument("--resolution", type=int, default=80, help="grid points per axis")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neurogeom`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
