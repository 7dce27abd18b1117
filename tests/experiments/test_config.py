"""Experiment settings: overrides, strict keys and types, TOML files."""

from __future__ import annotations

import pytest

from neurogeom.errors import NeurogeomError
from neurogeom.experiments.config import ConfigError, load_toml, resolve_config

DEFAULTS = {"lr": 0.1, "epochs": 10, "widths": [5, 25], "task": "sinusoid", "fast": True}


def test_overrides_in_order():
    out = resolve_config(DEFAULTS, {"epochs": 20}, None, {"epochs": 30, "lr": 1})
    assert out == {**DEFAULTS, "epochs": 30, "lr": 1}
    assert DEFAULTS["epochs"] == 10  # defaults untouched


def test_unknown_key_lists_valid_ones():
    with pytest.raises(
        ConfigError, match=r"unknown setting 'epoch'.*epochs, fast, lr, task, widths"
    ):
        resolve_config(DEFAULTS, {"epoch": 3})
    assert issubclass(ConfigError, NeurogeomError) and issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    "key, value",
    [("lr", "fast"), ("epochs", [1]), ("widths", 5), ("task", 3), ("fast", 1), ("epochs", 2.5)],
)
def test_wrong_types(key, value):
    with pytest.raises(ConfigError, match=key):
        resolve_config(DEFAULTS, {key: value})


def test_integral_float_becomes_int_and_tuple_becomes_list():
    out = resolve_config(DEFAULTS, {"epochs": 4.0, "widths": (1, 2)})
    assert out["epochs"] == 4 and isinstance(out["epochs"], int)
    assert out["widths"] == [1, 2]


def test_load_toml(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('epochs = 5\nwidths = [3]\ntask = "xor"\n')
    assert resolve_config(DEFAULTS, load_toml(p)) == {
        **DEFAULTS,
        "epochs": 5,
        "widths": [3],
        "task": "xor",
    }
    p.write_text("epochs = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(p)
    p.write_text("[toy]\nepochs = 3\n")
    with pytest.raises(ConfigError, match="top-level"):
        load_toml(p)
    with pytest.raises(ConfigError, match="does not exist"):
        load_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("lr", float("nan"), "finite"),
        ("lr", float("inf"), "finite"),
        ("epochs", float("nan"), "finite"),
        ("widths", [], "non-empty"),
        ("widths", ["5"], "list of numbers"),
        ("widths", [5, True], "list of numbers"),
        ("widths", [1.5], "integer"),
        ("widths", [float("inf")], "finite"),
    ],
)
def test_non_finite_empty_and_wrong_elements(key, value, match):
    with pytest.raises(ConfigError, match=rf"'{key}'.*{match}"):
        resolve_config(DEFAULTS, {key: value})


@pytest.mark.parametrize(
    "key, value, expected",
    [("epochs", 0, "> 0"), ("lr", -0.1, "> 0"), ("widths", [5, 0], "> 0"), ("task", "x", "one of")],
)
def test_rules_name_the_setting_the_value_and_what_is_expected(key, value, expected):
    from neurogeom.experiments.config import RULES, one_of

    rules = {**RULES, "task": one_of("sinusoid", "xor")}
    with pytest.raises(ConfigError) as err:
        resolve_config(DEFAULTS, {key: value}, rules=rules)
    message = str(err.value)
    assert repr(key) in message and repr(value) in message and expected in message


def test_config_error_lives_in_neurogeom_errors():
    import neurogeom.errors

    assert ConfigError is neurogeom.errors.ConfigError
