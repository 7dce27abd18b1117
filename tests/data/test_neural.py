import datetime

import numpy as np
import pytest
import xarray as xr

from neurogeom.data.neural import Recording, read_arrays, read_netcdf, read_nwb
from neurogeom.errors import DataFormatError

pynwb = pytest.importorskip("pynwb")
from pynwb import NWBHDF5IO, NWBFile  # noqa: E402

T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def write_nwb(path, *, trials=True, units=True, orientation=None, labels=False):
    nwb = NWBFile("test session", "id-1", T0)
    rng = np.random.default_rng(0)
    spikes = [np.sort(rng.uniform(0, 10, size=n)) for n in (40, 25, 60)]
    if trials:
        nwb.add_trial_column("orientation", "orientation (rad)")
        nwb.add_trial_column("contrast", "contrast")
        if labels:
            nwb.add_trial_column("label", "a string column")
        ori = orientation if orientation is not None else [0.0, 0.5, 1.0] * 3
        for i, o in enumerate(ori):
            extra = {"label": f"t{i}"} if labels else {}
            nwb.add_trial(
                start_time=float(i), stop_time=i + 0.8, orientation=o, contrast=0.5, **extra
            )
    if units:
        for s in spikes:
            nwb.add_unit(spike_times=s)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return spikes


def manual_counts(spikes, lo, hi):
    return np.array([[np.sum((s >= a) & (s < b)) for s in spikes] for a, b in zip(lo, hi)])


def test_nwb_round_trip_counts_and_stimuli(tmp_path):
    path = tmp_path / "rec.nwb"
    spikes = write_nwb(path)
    rec = read_nwb(path, ["orientation", "contrast"])
    starts = np.arange(9.0)
    np.testing.assert_array_equal(rec.stimuli[:, 0], [0.0, 0.5, 1.0] * 3)
    np.testing.assert_array_equal(rec.stimuli[:, 1], 0.5)
    np.testing.assert_array_equal(rec.responses, manual_counts(spikes, starts, starts + 0.8))
    assert rec.stimulus_names == ("orientation", "contrast")
    np.testing.assert_array_equal(rec.unit_ids, [0, 1, 2])
    # a window after onset, as rates, two of the units
    w = read_nwb(path, "orientation", window=(0.1, 0.6), units=[2, 0], rate=True)
    expected = manual_counts([spikes[2], spikes[0]], starts + 0.1, starts + 0.6) / 0.5
    np.testing.assert_allclose(w.responses, expected, rtol=1e-12)
    np.testing.assert_array_equal(w.unit_ids, [2, 0])


def test_nwb_repetitions_build_a_sampled_response_map(tmp_path):
    path = tmp_path / "rec.nwb"
    spikes = write_nwb(path)
    rec = read_nwb(path, "orientation", group_repetitions=True)
    assert rec.responses.shape == (3, 3, 3) and rec.stimuli[:, 0].tolist() == [0.0, 0.5, 1.0]
    starts = np.arange(9.0)
    flat = manual_counts(spikes, starts, starts + 0.8)
    np.testing.assert_array_equal(rec.responses[1], flat[[1, 4, 7]])  # orientation 0.5
    rm = rec.response_map(estimator_params={"bandwidth": 1.0}, correction=None)
    assert rm.trials.shape == (3, 3, 3)


def test_nwb_bad_files_get_clear_errors(tmp_path):
    no_trials = tmp_path / "a.nwb"
    write_nwb(no_trials, trials=False)
    with pytest.raises(DataFormatError, match="no trials table"):
        read_nwb(no_trials, "orientation")
    good = tmp_path / "b.nwb"
    write_nwb(good, labels=True)
    with pytest.raises(DataFormatError, match=r"no column 'speed'.*orientation"):
        read_nwb(good, ["orientation", "speed"])
    with pytest.raises(DataFormatError, match="not numeric"):
        read_nwb(good, "label")
    no_units = tmp_path / "c.nwb"
    write_nwb(no_units, units=False)
    with pytest.raises(DataFormatError, match="units"):
        read_nwb(no_units, "orientation")
    text = tmp_path / "d.nwb"
    text.write_text("not an nwb file")
    with pytest.raises(DataFormatError, match="not a readable NWB file"):
        read_nwb(text, "orientation")
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "e.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(DataFormatError, match="not a readable NWB file"):
        read_nwb(tmp_path / "e.h5", "orientation")
    uneven = tmp_path / "f.nwb"
    write_nwb(uneven, orientation=[0.0, 0.0, 1.0])
    with pytest.raises(DataFormatError, match="unequal"):
        read_nwb(uneven, "orientation", group_repetitions=True)
    with pytest.raises(KeyError, match="unit ids"):
        read_nwb(good, "orientation", units=[7])
    with pytest.raises(FileNotFoundError):
        read_nwb(tmp_path / "missing.nwb", "orientation")


def test_npz_and_npy_folder(tmp_path):
    X, R = np.random.default_rng(0).normal(size=(5, 2)), np.arange(30.0).reshape(5, 2, 3)
    np.savez(tmp_path / "r.npz", stimuli=X, responses=R)
    rec = read_arrays(tmp_path / "r.npz")
    np.testing.assert_array_equal(rec.stimuli, X)
    np.testing.assert_array_equal(rec.responses, R)
    folder = tmp_path / "arrays"
    folder.mkdir()
    np.save(folder / "stimuli.npy", X[:, 0])
    np.save(folder / "responses.npy", R[:, 0])
    rec = read_arrays(folder)
    assert rec.stimuli.shape == (5, 1) and rec.responses.shape == (5, 3)
    np.savez(tmp_path / "bad.npz", x=X)
    with pytest.raises(DataFormatError, match="'stimuli' and 'responses'"):
        read_arrays(tmp_path / "bad.npz")
    (tmp_path / "t.npz").write_text("hello")
    with pytest.raises(DataFormatError):
        read_arrays(tmp_path / "t.npz")
    with pytest.raises(FileNotFoundError, match=r"responses\.npy"):
        (folder / "responses.npy").unlink()
        read_arrays(folder)
    with pytest.raises(ValueError, match="NaN"):
        np.savez(tmp_path / "nan.npz", stimuli=X, responses=np.full((5, 3), np.nan))
        read_arrays(tmp_path / "nan.npz")


def test_netcdf_dataarrays_in_any_dim_order(tmp_path):
    R = np.random.default_rng(0).poisson(3.0, size=(2, 4, 5)).astype(float)  # rep, neuroid, pres
    ds = xr.Dataset(
        {
            "stimuli": (("presentation", "parameter"), np.arange(10.0).reshape(5, 2)),
            "responses": (("repetition", "neuroid", "presentation"), R),
        },
        coords={"parameter": ["ori", "sf"], "neuroid": ["n1", "n2", "n3", "n4"]},
    )
    ds.to_netcdf(tmp_path / "r.nc")
    rec = read_netcdf(tmp_path / "r.nc")
    np.testing.assert_array_equal(rec.responses, R.transpose(2, 0, 1))
    assert rec.stimulus_names == ("ori", "sf") and list(rec.unit_ids) == ["n1", "n2", "n3", "n4"]
    with pytest.raises(DataFormatError, match="no variable 'rates'"):
        read_netcdf(tmp_path / "r.nc", responses="rates")
    bad = xr.Dataset({"stimuli": ("presentation", [1.0]), "responses": (("time",), [1.0])})
    bad.to_netcdf(tmp_path / "bad.nc")
    with pytest.raises(DataFormatError, match="dims"):
        read_netcdf(tmp_path / "bad.nc")


def test_recording_validates_shapes():
    with pytest.raises(ValueError, match="one row per presentation"):
        Recording(np.zeros((3, 1)), np.zeros((4, 2)), ("s",), np.arange(2))
