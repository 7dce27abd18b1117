"""The ``neurogeom`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from .experiments.demo import DemoConfig, run_demo

    config = DemoConfig(
        epochs=args.epochs, width=args.width, resolution=args.resolution, seed=args.seed
    )
    paths = run_demo(args.out, config)
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}")
    print(f"output folder: {Path(args.out).resolve()}")
    return 0


def _run(args: argparse.Namespace) -> int:
    import time

    from .errors import NeurogeomError
    from .experiments import EXPERIMENTS, load_toml, run_experiment
    from .experiments.claims import claim_table

    try:
        config = load_toml(args.config) if args.config else {}
        if args.no_progress:
            config["progress"] = False
        start = time.perf_counter()
        paths = run_experiment(args.experiment, config=config, data=args.data, out=args.out)
    except (NeurogeomError, ValueError) as err:  # bad settings or data: a message, no traceback
        print(f"neurogeom run {args.experiment}: error: {err}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    from .dataset import load

    print(claim_table(load(paths["dataset"]), by=EXPERIMENTS[args.experiment].rows))
    for kind, path in paths.items():
        if kind != "folder":
            print(f"wrote {kind}: {path}")
    print(f"run folder: {paths['folder'].resolve()}  ({elapsed:.1f} s)")
    return 0


def _add_run(sub: Any) -> None:
    from .experiments import EXPERIMENTS

    listing = "\n".join(f"  {name:<13} {exp.summary}" for name, exp in EXPERIMENTS.items())
    run = sub.add_parser(
        "run",
        help="run one of the poster's experiments (toy, mnist-plane, cifar-plane, ...)",
        description=f"Run a recorded experiment. Experiments:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    names = run.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    for name, exp in EXPERIMENTS.items():
        settings = ", ".join(f"{k}={v!r}" for k, v in exp.defaults.items())
        p = names.add_parser(
            name, help=exp.summary, description=f"{exp.summary}.\n\nSettings: {settings}"
        )
        p.add_argument("--config", type=Path, help="TOML file overriding any setting")
        p.add_argument(
            "--out",
            type=Path,
            default=Path("neurogeom-runs"),
            help="parent folder of the run folder (default: neurogeom-runs)",
        )
        p.add_argument(
            "--data",
            default=None,
            help="data: for mnist-*, a directory with the MNIST IDX files, 'mnist' "
            "($NEUROGEOM_MNIST) or 'digits' (default); for cifar-* and barlow-*, a folder "
            "with the CIFAR-10 batch files, 'cifar10' ($NEUROGEOM_CIFAR10) or 'synthetic' "
            "(default: the labelled synthetic stand-in)",
        )
        p.add_argument("--no-progress", action="store_true", help="no progress bars")
        p.set_defaults(func=_run)


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
    _add_run(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neurogeom`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
