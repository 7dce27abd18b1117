"""Experiment settings: defaults, overrides from TOML files or keywords, strict validation."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from ..errors import NeurogeomError

__all__ = ["ConfigError", "load_toml", "resolve_config"]


class ConfigError(NeurogeomError, ValueError):
    """An experiment setting is unknown or has the wrong type."""


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


def _coerce(key: str, default: Any, value: Any) -> Any:
    want, got = _kind(default), _kind(value)
    if want == "none" or value is None:
        return value  # optional settings (e.g. a data path) accept anything
    if want != got:
        raise ConfigError(
            f"setting {key!r} must be a {want} like {default!r}; got {value!r} ({got})."
        )
    if want == "number" and isinstance(default, int) and not isinstance(value, int):
        if float(value) != int(value):
            raise ConfigError(f"setting {key!r} must be an integer; got {value!r}.")
        return int(value)
    if want == "list":
        return list(value)
    return value


def resolve_config(
    defaults: Mapping[str, Any], *overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Defaults updated by each mapping in ``overrides`` in turn; unknown keys raise.

    Parameters
    ----------
    defaults : mapping
        Every valid setting with its default value; the default's type is the setting's type
        (an int setting accepts an integral float, a float setting accepts an int).
    *overrides : mapping or None
        Later ones win. ``None`` entries are skipped.

    Returns
    -------
    dict

    Raises
    ------
    ConfigError
        A key that is not a setting (the message lists the valid ones), or a value of the
        wrong type.

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
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}.") from err
    nested = [k for k, v in data.items() if isinstance(v, dict)]
    if nested:
        raise ConfigError(
            f"config file {path} has tables {nested}; settings are top-level `key = value` lines."
        )
    return data
