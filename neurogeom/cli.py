"""The ``neurogeom`` command.

Every failure the command can foresee (a bad setting, an unusable ``--out`` or ``--config``
path, missing data, a failure late in a run) ends in one line on stderr,
``neurogeom <command>: error: <what>``, and exit status 2; no traceback. Set the
environment variable ``NEUROGEOM_TRACEBACK=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["build_parser", "main"]

#: Exit status of every refused setting and every failed run.
EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _number(kind: Callable[[str], Any], low: float, expected: str) -> Callable[[str], Any]:
    """An argparse ``type``: ``kind(text)``, finite and at least ``low``."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}") from None
        if not math.isfinite(value) or value < low:
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


_POSITIVE_INT = _number(int, 1, "a positive integer")
_SEED = _number(int, 0, "an integer >= 0")
_RESOLUTION = _number(int, 2, "an integer >= 2")


def _fail(command: str, err: BaseException) -> int:
    message = str(err).strip().splitlines()
    text = " ".join(line.strip() for line in message) or type(err).__name__
    if not isinstance(err, _expected()):
        text = f"{type(err).__name__}: {text}"
        if os.environ.get("NEUROGEOM_TRACEBACK"):
            raise err
        text += " (set NEUROGEOM_TRACEBACK=1 for the traceback)"
    print(f"neurogeom {command}: error: {text}", file=sys.stderr)
    return EXIT_ERROR


def _expected() -> tuple[type[BaseException], ...]:
    """Errors whose message is enough on its own (others get their type name too)."""
    from .errors import NeurogeomError

    return (NeurogeomError, OSError, ValueError, ImportError, ArithmeticError)


def _demo(args: argparse.Namespace) -> int:
    from .experiments.demo import DemoConfig, run_demo

    config = DemoConfig(
        epochs=args.epochs, width=args.width, resolution=args.resolution, seed=args.seed
    )
    progress = False if args.no_progress else None
    paths = run_demo(args.out, config, progress=progress)
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}")
    print(f"output folder: {Path(args.out).expanduser().resolve()}")
    return 0


def _run(args: argparse.Namespace) -> int:
    import time

    from .experiments import EXPERIMENTS, load_toml, run_experiment
    from .experiments.claims import claim_table

    config = load_toml(args.config) if args.config else {}
    if args.no_progress:
        config["progress"] = False
    start = time.perf_counter()
    paths = run_experiment(args.experiment, config=config, data=args.data, out=args.out)
    elapsed = time.perf_counter() - start
    from .dataset import load

    print(claim_table(load(paths["dataset"]), by=EXPERIMENTS[args.experiment].rows))
    for kind, path in paths.items():
        if kind != "folder":
            print(f"wrote {kind}: {path}")
    print(f"run folder: {paths['folder'].resolve()}  ({elapsed:.1f} s)")
    return 0


def _train(args: argparse.Namespace) -> int:
    from .experiments.train_deep import DeepTrainConfig, resolve_device, train

    checkpoints = args.checkpoints if args.checkpoints is not None else sorted({0, args.epochs})
    config = DeepTrainConfig(
        method=args.method, depth=args.depth, activation=args.activation, width=args.width,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, checkpoints=tuple(checkpoints),
        projector=tuple(args.projector), seed=args.seed,
    )  # fmt: skip
    from .data.cifar import load_cifar10, synthetic_cifar10

    data = synthetic_cifar10(args.synthetic) if args.synthetic else load_cifar10(args.data, "train")
    if args.subset:
        data = data.subset(args.subset)
    print(f"data: {data.source} ({len(data)} images); device: {resolve_device(args.device)}")
    train(config, data, args.out, device=args.device)
    print(f"output folder: {Path(args.out).expanduser().resolve()}")
    return 0


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train a CIFAR ResNet or Barlow Twins model, keeping checkpoints",
        description="Train a CIFAR ResNet or Barlow Twins model "
        "(neurogeom.experiments.train_deep.train); a stopped run resumes from the folder.",
    )
    p.add_argument("--method", choices=["supervised", "barlow"], default="supervised")
    p.add_argument("--depth", type=int, choices=[18, 34], default=34)
    p.add_argument("--activation", choices=["gelu", "relu"], default="gelu")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--checkpoints", type=int, nargs="*", default=None)
    p.add_argument("--projector", type=int, nargs="+", default=[128])
    p.add_argument("--seed", type=_SEED, default=0)
    p.add_argument("--data", default=None, help="CIFAR-10 folder (default $NEUROGEOM_CIFAR10)")
    p.add_argument("--synthetic", type=_POSITIVE_INT, default=None, metavar="N",
                   help="use N synthetic stand-in images instead of CIFAR-10")  # fmt: skip
    p.add_argument("--subset", type=_POSITIVE_INT, default=None, help="train on the first N images")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=_train, command_name="train")


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
        p.add_argument(
            "--no-progress",
            action="store_true",
            help="no progress bars (by default they show when stderr is a terminal)",
        )
        p.set_defaults(func=_run, command_name=f"run {name}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neurogeom`` command.

    Examples
    --------
    >>> build_parser().parse_args(["demo", "--epochs", "5"]).epochs
    5
    """
    parser = _Parser(prog="neurogeom", description="Riemannian geometry of neural representations.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="train the poster's 2 → 25 sigmoid net on the sinusoid task and map its volume element",
    )
    demo.add_argument("--out", type=Path, default=Path("neurogeom-runs/demo"), help="output folder")
    demo.add_argument("--epochs", type=_POSITIVE_INT, default=2000, help="training epochs (>= 1)")
    demo.add_argument("--width", type=_POSITIVE_INT, default=25, help="hidden units (>= 1)")
    demo.add_argument(
        "--resolution", type=_RESOLUTION, default=80, help="grid points per axis (>= 2)"
    )
    demo.add_argument("--seed", type=_SEED, default=0)
    demo.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (by default it shows when stderr is a terminal)",
    )
    demo.set_defaults(func=_demo, command_name="demo")
    _add_run(sub)
    _add_train(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neurogeom`` command; returns the exit status.

    Usage errors exit (``SystemExit``) with status 2 and a one-line message, as do bad
    settings and failed runs (returned as 2).

    Examples
    --------
    >>> main(["demo", "--epochs", "0"])
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as err:  # a message, no traceback (NEUROGEOM_TRACEBACK=1 shows it)
        return _fail(args.command_name, err)


if __name__ == "__main__":
    sys.exit(main())
