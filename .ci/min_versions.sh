#!/usr/bin/env bash
# Minimum-versions check (issue 10): the floors in pyproject.toml are true.
#
# In a clean venv, install the project with every declared floor pinned exactly
# (constraints-min.txt), check that pip installed exactly those versions and that they are
# the floors pyproject.toml declares, then import neurogeom and run the tests:
#   stage 1  core dependencies only (+ pytest): every module imports, and netCDF save/load
#            goes through h5netcdf, the core netCDF engine, with netCDF4 absent;
#   stage 2  .[test] (every extra the tests use): the whole default test suite (doctests
#            included), zarr, dask/distributed, pynwb and netCDF4 at their floors.
# Wheels only: a floor with no wheel for this Python fails here instead of compiling.
# About 4 minutes on 2 cores with a warm pip cache. Env: NG_MIN_VENV (venv path), PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg
VENV="${NG_MIN_VENV:-/tmp/ng-min-venv}"
PYTHON="${PYTHON:-python}"
PIP_ARGS=(-q --only-binary=:all: -c constraints-min.txt)
start=$SECONDS

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
py="$VENV/bin/python"

# $1 = core | all: the pins of what is installed (all: every pin) must be installed exactly,
# and every floor of the core dependencies (all: also of the extras [test] pulls in) must be
# pinned, at the same release. Then import what stage $1 promises.
check_versions() {
    "$py" - "$1" <<'EOF'
import importlib
import importlib.util
import importlib.metadata as md
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

stage = sys.argv[1]
pins = {}
for line in open("constraints-min.txt"):
    line = line.split("#")[0].strip()
    if line:
        name, _, version = line.partition("==")
        pins[canonicalize_name(name)] = Version(version)

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
declared = list(project["dependencies"])
if stage == "all":
    declared += extras["test"] + extras["netcdf"] + extras["zarr"] + extras["dask"] + extras["nwb"]
errors = []
for text in declared:
    req = Requirement(text)
    name = canonicalize_name(req.name)
    if name == "neurogeom":
        continue
    floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
    if len(floors) != 1:
        errors.append(f"{text}: declare exactly one '>=' floor")
    elif name not in pins:
        errors.append(f"{text}: no pin in constraints-min.txt")
    elif Version(pins[name].base_version) != floors[0]:
        errors.append(f"{text}: constraints-min.txt pins {pins[name]}")

for name, want in sorted(pins.items()):
    try:
        got = Version(md.version(name))
    except md.PackageNotFoundError:
        if stage == "all":
            errors.append(f"{name}: pinned {want} but not installed")
        continue
    if Version(got.public) != want:  # torch 2.13.0+cpu is 2.13.0
        errors.append(f"{name}: installed {got}, floor {want}")
    print(f"  {name}=={got}")

modules = ["neurogeom"]
if stage == "all":
    # tests importorskip some of these: a broken floor must fail here, not skip quietly
    modules += ["netCDF4", "h5netcdf", "zarr", "dask.array", "distributed", "pynwb", "pandas",
                "statsmodels.api", "statsmodels.nonparametric.kernel_regression"]
else:
    import pkgutil

    import neurogeom

    modules += [m.name for m in pkgutil.walk_packages(neurogeom.__path__, "neurogeom.")]
    if importlib.util.find_spec("netCDF4") is not None:
        errors.append("netCDF4 is installed in the core stage; h5netcdf would go untested")
for module in modules:
    try:
        importlib.import_module(module)
    except Exception as err:
        errors.append(f"import {module}: {type(err).__name__}: {err}")
print(f"  imported {len(modules)} modules")

if errors:
    sys.exit("minimum versions check failed:\n  " + "\n  ".join(errors))
EOF
}

echo "== stage 1: core dependencies at their floors"
"$py" -m pip install "${PIP_ARGS[@]}" -e . pytest
check_versions core
# ng.save/ng.load (dataset doctest, measure and CLI round trips) on h5netcdf alone, and
# read_netcdf on whatever netCDF flavour xarray writes without netCDF4.
"$py" -m pytest -q -p no:cacheprovider neurogeom/dataset.py \
    neurogeom/data/neural.py::neurogeom.data.neural.read_netcdf \
    tests/test_measure.py tests/test_cli.py

echo "== stage 2: .[test] at the floors"
"$py" -m pip install "${PIP_ARGS[@]}" -e ".[test]"
check_versions all
"$py" -m pytest -q -p no:cacheprovider

echo "== minimum versions OK in $((SECONDS - start)) s"
