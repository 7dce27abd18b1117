"""ng.save / ng.load: atomic, concurrent-safe writes and clear errors on bad files."""

import json
import multiprocessing
import os
import stat
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import xarray as xr

import neurogeom as ng
from neurogeom import dataset
from neurogeom.errors import DataFormatError, DataNotFoundError, NeurogeomError


def geometry_like(value: float = 0.0, n: int = 5, who: str = "a") -> xr.Dataset:
    """A small Dataset marked as neurogeom's (a JSON ``config`` attr)."""
    return xr.Dataset(
        {"log_volume_element": ("t", np.full(n, value))},
        coords={"t": np.arange(n)},
        attrs={"config": json.dumps({"who": who}), "neurogeom_version": ng.__version__},
    )


def entries(folder):
    return sorted(os.listdir(folder))


# --- save ------------------------------------------------------------------------------


def test_save_replaces_an_existing_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "g.nc"
    ng.save(geometry_like(1.0), path)
    ng.save(geometry_like(2.0, n=7), path)
    xr.testing.assert_identical(ng.load(path), geometry_like(2.0, n=7))
    assert entries(tmp_path) == ["g.nc"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask  # as a plain open() makes it


def test_save_does_not_touch_another_writers_temporary_file(tmp_path):
    """The temporary name is unique, not ``<name>.part`` shared by every writer."""
    path = tmp_path / "g.nc"
    other = tmp_path / "g.nc.part"
    other.write_bytes(b"someone else's half-written file")
    ng.save(geometry_like(), path)
    assert other.read_bytes() == b"someone else's half-written file"
    assert entries(tmp_path) == ["g.nc", "g.nc.part"]


def test_save_to_a_directory_is_refused_and_leaves_nothing(tmp_path):
    target = tmp_path / "g.nc"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(ng.errors.FileWriteError, match="is a directory") as info:
        ng.save(geometry_like(), target)
    assert isinstance(info.value, OSError) and str(target) in str(info.value)
    assert entries(tmp_path) == ["g.nc"] and entries(target) == ["keep.txt"]


def test_save_below_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ng.errors.FileWriteError, match="notes.txt"):
        ng.save(geometry_like(), tmp_path / "notes.txt" / "g.nc")
    assert entries(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize(
    "bad",
    [
        {"data_vars": {"bad": ("t", np.array([{}, 1, "a", 2.0, None], dtype=object))}},
        {"attrs": {"bad": {"nested": 1}}},
    ],
    ids=["object-variable", "dict-attr"],
)
def test_unsavable_dataset_is_a_data_format_error_and_the_old_file_survives(tmp_path, bad):
    path = tmp_path / "g.nc"
    ng.save(geometry_like(1.0), path)
    ds = geometry_like(2.0)
    ds = ds.assign(bad["data_vars"]) if "data_vars" in bad else ds.assign_attrs(bad["attrs"])
    with pytest.raises(DataFormatError, match="'bad'") as info:
        ng.save(ds, path)
    assert str(path) in str(info.value)
    assert entries(tmp_path) == ["g.nc"]
    xr.testing.assert_identical(ng.load(path), geometry_like(1.0))


def test_read_only_folder_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    """As root, chmod does not stop writes, so the refusal is simulated at the temp file."""

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ng.errors.FileWriteError, match="writable") as info:
        ng.save(geometry_like(), tmp_path / "g.nc")
    assert isinstance(info.value, PermissionError | OSError)
    assert entries(tmp_path) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_really_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ng.errors.FileWriteError, match="writable"):
            ng.save(geometry_like(), folder / "g.nc")
        assert entries(folder) == []
    finally:
        folder.chmod(0o755)


def test_failure_after_writing_removes_the_temporary_file(tmp_path, monkeypatch):
    """fsync failing (a full or failing disk) must not leave the temp file or the target."""
    path = tmp_path / "g.nc"
    ng.save(geometry_like(1.0), path)

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(ng.errors.FileWriteError, match="g.nc"):
        ng.save(geometry_like(2.0), path)
    monkeypatch.undo()
    assert entries(tmp_path) == ["g.nc"]
    xr.testing.assert_identical(ng.load(path), geometry_like(1.0))


def test_failing_folder_sync_after_the_rename_says_the_file_is_in_place(tmp_path, monkeypatch):
    from neurogeom import _files

    def failing(path):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(_files, "_fsync_dir", failing)
    with pytest.raises(ng.errors.FileWriteError, match="was written, but its folder"):
        ng.save(geometry_like(2.0), tmp_path / "g.nc")
    monkeypatch.undo()
    assert entries(tmp_path) == ["g.nc"]
    xr.testing.assert_identical(ng.load(tmp_path / "g.nc"), geometry_like(2.0))


def test_interrupt_while_writing_removes_the_temporary_file(tmp_path, monkeypatch):
    written = []
    real = xr.Dataset.to_netcdf

    def interrupted(self, target, *args, **kwargs):
        real(self, target, *args, **kwargs)
        written.append(target)
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_netcdf", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ng.save(geometry_like(), tmp_path / "g.nc")
    assert written and entries(tmp_path) == []


def _save_many(path: str, sync: str, value: float, n: int, times: int) -> int:
    ds = geometry_like(value, n=n, who=str(value))
    open(os.path.join(sync, f"ready-{value}"), "w").close()
    while not os.path.exists(os.path.join(sync, "go")):  # start together, once imported
        time.sleep(0.001)
    for _ in range(times):
        ng.save(ds, path)
    return times


def test_two_processes_saving_to_one_path_leave_one_complete_dataset(tmp_path):
    out, sync = tmp_path / "out", tmp_path / "sync"
    sync.mkdir()
    path = out / "g.nc"
    expected = {
        1.0: geometry_like(1.0, n=3000, who="1.0"),
        2.0: geometry_like(2.0, n=17, who="2.0"),
    }
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        jobs = [
            pool.submit(_save_many, str(path), str(sync), v, len(ds.t), 60)
            for v, ds in expected.items()
        ]
        while len(entries(sync)) < 2 and not any(job.done() for job in jobs):
            time.sleep(0.01)
        (sync / "go").touch()
        while not all(job.done() for job in jobs):
            if path.exists():  # a reader during the writes sees one whole Dataset or the other
                back = ng.load(path)
                xr.testing.assert_identical(back, expected[float(back.log_volume_element[0])])
            time.sleep(0.001)
        assert [job.result() for job in jobs] == [60, 60]
    back = ng.load(path)
    xr.testing.assert_identical(back, expected[float(back.log_volume_element[0])])
    assert entries(out) == ["g.nc"]


# --- load ------------------------------------------------------------------------------


def test_load_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(DataNotFoundError, match="missing.nc"):
        ng.load(tmp_path / "missing.nc")


def test_load_of_a_directory_is_a_data_format_error(tmp_path):
    with pytest.raises(DataFormatError, match="is a directory"):
        ng.load(tmp_path)


@pytest.mark.parametrize(
    "content", [b"", b"not a netCDF file at all", b"\x89HDF\r\n\x1a\n" + b"\0" * 64]
)
def test_load_of_a_corrupt_file_is_a_data_format_error_naming_it(tmp_path, content):
    path = tmp_path / "g.nc"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match="g.nc") as info:
        ng.load(path)
    assert isinstance(info.value, ValueError) and info.value.__cause__ is not None


def test_load_of_a_truncated_file_is_a_data_format_error(tmp_path):
    path = ng.save(geometry_like(n=20000), tmp_path / "g.nc")
    path.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    with pytest.raises(DataFormatError, match="g.nc"):
        ng.load(path)


def test_load_refuses_a_netcdf_file_that_is_not_a_neurogeom_dataset(tmp_path):
    path = tmp_path / "other.nc"
    other = xr.Dataset({"x": ("t", np.arange(3.0))}, attrs={"title": "someone else's"})
    other.to_netcdf(path, engine="h5netcdf")
    with pytest.raises(DataFormatError, match="not a neurogeom Dataset") as info:
        ng.load(path)
    assert "strict=False" in str(info.value) and str(path) in str(info.value)
    xr.testing.assert_identical(ng.load(path, strict=False), other)  # the escape hatch


def test_load_refuses_a_config_that_is_not_json(tmp_path):
    path = tmp_path / "other.nc"
    xr.Dataset(attrs={"config": "seed=3"}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(DataFormatError, match="config"):
        ng.load(path)


def test_load_reads_files_written_by_either_engine(tmp_path):
    pytest.importorskip("netCDF4")
    for engine in ("netcdf4", "h5netcdf"):
        path = tmp_path / f"{engine}.nc"
        geometry_like(3.0).to_netcdf(path, engine=engine)
        xr.testing.assert_identical(ng.load(path), geometry_like(3.0))


# --- engine ----------------------------------------------------------------------------


def test_engine_prefers_h5netcdf_the_core_dependency(monkeypatch):
    assert dataset.netcdf_engine() == "h5netcdf"
    present = {"netCDF4"}
    monkeypatch.setattr(dataset, "find_spec", lambda name: object() if name in present else None)
    assert dataset.netcdf_engine() == "netcdf4"


def test_h5netcdf_without_h5py_is_no_engine(monkeypatch, tmp_path):
    """h5netcdf imports without h5py but cannot write: found by a fresh core install."""
    present = {"h5netcdf"}
    monkeypatch.setattr(dataset, "find_spec", lambda name: object() if name in present else None)
    with pytest.raises(NeurogeomError, match="h5netcdf with h5py"):
        dataset.netcdf_engine()
    present.add("h5py")
    assert dataset.netcdf_engine() == "h5netcdf"


def test_no_netcdf_engine_is_a_clear_neurogeom_error(monkeypatch, tmp_path):
    existing = ng.save(geometry_like(), tmp_path / "old.nc")
    monkeypatch.setattr(dataset, "find_spec", lambda name: None)
    with pytest.raises(NeurogeomError, match="pip install h5netcdf") as info:
        ng.save(geometry_like(), tmp_path / "g.nc")
    assert isinstance(info.value, ImportError)
    assert entries(tmp_path) == ["old.nc"]
    with pytest.raises(NeurogeomError, match="h5netcdf"):
        ng.load(existing)


def test_paths_with_a_tilde_mean_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    written = ng.save(geometry_like(), "~/g.nc")
    assert written == tmp_path / "g.nc" and written.exists()
    xr.testing.assert_identical(ng.load("~/g.nc"), geometry_like())
