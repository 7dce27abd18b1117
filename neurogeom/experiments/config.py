"""Experiment settings: defaults, overrides from TOML files or keywords, strict validation.

:func:`resolve_config` is the one place where an experiment's settings are checked: the
key must be a setting, the value must have the default's type (an int setting accepts an
integral float, a float setting an int; list elements the type of the default's elements),
numbers must be finite, lists that default to non-empty must stay non-empty, and the
settings named in :data:`RULES` must satisfy their rule (positive, non-negative, at least
2, one of a few choices). Every failure is a :class:`~neurogeom.errors.ConfigError` naming
the setting, the value given and what is expected.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

__all__ = ["RULES", "ConfigError", "Rule", "check_settings", "load_toml", "resolve_config"]


@dataclass(frozen=True)
class Rule:
    """A constraint on a setting's value (on every element, for a list setting).

    Parameters
    ----------
    expected : str
        What the value must be, as shown in the error (``"> 0"``).
    ok : callable
        True for an acceptable value.

    Examples
    --------
    >>> POSITIVE.ok(3), POSITIVE.ok(0)
    (True, False)
    """

    expected: str
    ok: Callable[[Any], bool]


POSITIVE = Rule("> 0", lambda v: v > 0)
NON_NEGATIVE = Rule(">= 0", lambda v: v >= 0)
AT_LEAST_2 = Rule(">= 2", lambda v: v >= 2)
DIGIT = Rule("a class label 0..9", lambda v: 0 <= v <= 9)
PROGRESS = Rule("true, false or absent (auto)", lambda v: v is None or isinstance(v, bool))


def one_of(*choices: Any) -> Rule:
    """A rule accepting only ``choices``.

    Examples
    --------
    >>> one_of("sgd", "adam").ok("adamw")
    False
    """
    return Rule(f"one of {', '.join(repr(c) for c in choices)}", lambda v: v in choices)


#: Constraints by setting name, shared by every experiment (a name means the same thing
#: everywhere; an experiment passes its own table to :func:`resolve_config` where not).
RULES: dict[str, Rule] = {
    **dict.fromkeys(
        (
            "epochs",
            "lr",
            "batch_size",
            "n_points",
            "widths",
            "grid_extent",
            "extent",
            "closed_form_tolerance",
            "synthetic_n",
            "depth",
            "block_size",
            "chunk_size",
            "projector",
            "lambd",
            "probe_C",
        ),
        POSITIVE,
    ),
    **dict.fromkeys(
        (
            "momentum",
            "weight_decay",
            "max_samples",
            "width",
            "full_rank",
            "seeds",
            "seed",
            "snapshot_epochs",
            "checkpoints",
            "stage_pool",
            "probe_samples",
        ),
        NON_NEGATIVE,
    ),
    **dict.fromkeys(("grid_resolution", "resolution", "steps"), AT_LEAST_2),
    **dict.fromkeys(("digits", "classes", "pairs"), DIGIT),
    "optimizer": one_of("sgd", "adam", "adamw"),
    "train_dtype": one_of("float32", "float64"),
    "dtype": one_of("float32", "float64"),
    "split": one_of("train", "test"),
    "task": one_of("sinusoid", "xor", "xor4"),
    "stages": one_of("start", "middle", "end"),
    "hidden": POSITIVE,
    "progress": PROGRESS,
}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "list"
    if value is None:
        return "none"
    return type(value).__name__


def _leaves(value: Any) -> list[Any]:
    """The scalars of a (nested) list setting."""
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _coerce_number(key: str, default: Any, value: Any, where: str = "") -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"setting {key!r}{where} must be a finite number; got {value!r}.")
    if isinstance(default, int) and not isinstance(value, int):
        if float(value) != int(value):
            raise ConfigError(f"setting {key!r}{where} must be an integer; got {value!r}.")
        return int(value)
    return value


def _coerce_list(key: str, default: list[Any] | tuple[Any, ...], value: Any) -> list[Any]:
    items = list(value)
    if default and not items:
        raise ConfigError(
            f"setting {key!r} must be a non-empty list like {list(default)!r}; got []."
        )
    if not default:
        return items
    model = default[0]
    out = []
    for item in items:
        want, got = _kind(model), _kind(item)
        if want != got:
            raise ConfigError(
                f"setting {key!r} must be a list of {want}s like {list(default)!r}; "
                f"got {value!r} (element {item!r} is a {got})."
            )
        if want == "number":
            item = _coerce_number(key, model, item, " (every element)")
        elif want == "list":
            item = _coerce_list(key, model, item)
        out.append(item)
    return out


def _coerce(key: str, default: Any, value: Any) -> Any:
    want, got = _kind(default), _kind(value)
    if want == "none" or value is None:
        return value  # optional settings (e.g. progress: None = auto) are checked by RULES
    if want != got:
        raise ConfigError(
            f"setting {key!r} must be a {want} like {default!r}; got {value!r} ({got})."
        )
    if want == "number":
        return _coerce_number(key, default, value)
    if want == "list":
        return _coerce_list(key, default, value)
    return value


def check_settings(settings: Mapping[str, Any], rules: Mapping[str, Rule] | None = None) -> None:
    """Check each setting that has a rule in ``rules`` (default :data:`RULES`).

    List settings are checked element by element (nested lists leaf by leaf).

    Raises
    ------
    ConfigError
        Naming the first setting that breaks its rule, the value and what is expected.

    Examples
    --------
    >>> check_settings({"epochs": 5, "widths": [5, 25]})
    >>> check_settings({"epochs": 0})
    Traceback (most recent call last):
    ...
    neurogeom.errors.ConfigError: setting 'epochs' must be > 0; got 0.
    """
    table = RULES if rules is None else rules
    for key, value in settings.items():
        rule = table.get(key)
        if rule is None:
            continue
        if rule is PROGRESS or not isinstance(value, list | tuple):
            if not rule.ok(value):
                raise ConfigError(f"setting {key!r} must be {rule.expected}; got {value!r}.")
            continue
        bad = [v for v in _leaves(value) if not rule.ok(v)]
        if bad:
            raise ConfigError(
                f"every element of setting {key!r} must be {rule.expected}; got {value!r}."
            )


def resolve_config(
    defaults: Mapping[str, Any],
    *overrides: Mapping[str, Any] | None,
    rules: Mapping[str, Rule] | None = None,
) -> dict[str, Any]:
    """Defaults updated by each mapping in ``overrides`` in turn, then checked.

    Parameters
    ----------
    defaults : mapping
        Every valid setting with its default value; the default's type is the setting's type
        (an int setting accepts an integral float, a float setting accepts an int).
    *overrides : mapping or None
        Later ones win. ``None`` entries are skipped.
    rules : mapping, optional
        Constraints by setting name (default :data:`RULES`), checked on the result.

    Returns
    -------
    dict

    Raises
    ------
    ConfigError
        A key that is not a setting (the message lists the valid ones), a value of the
        wrong type, a NaN or infinite number, an empty list, or a value its rule refuses.

    Examples
    --------
    >>> resolve_config({"lr": 0.1, "epochs": 10}, {"epochs": 20})
    {'lr': 0.1, 'epochs': 20}
    """
    out = dict(defaults)
    for mapping in overrides:
        for key, value in (mapping or {}).items():
            if key not in defaults:
                raise ConfigError(
                    f"unknown setting {key!r}; valid settings are: {', '.join(sorted(defaults))}."
                )
            out[key] = _coerce(key, defaults[key], value)
    check_settings(out, rules)
    return out


def load_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a TOML file of settings (a flat table of ``key = value`` lines).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.toml"
    >>> _ = p.write_text("epochs = 5\\nwidths = [5, 25]\\n")
    >>> load_toml(p)
    {'epochs': 5, 'widths': [5, 25]}
    """
    import tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder, not a TOML file.") from None
    except PermissionError:
        raise ConfigError(f"config file {path} cannot be read (permission denied).") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}.") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}.") from err
    nested = [k for k, v in data.items() if isinstance(v, dict)]
    if nested:
        raise ConfigError(
            f"config file {path} has tables {nested}; settings are top-level `key = value` lines."
        )
    return data
