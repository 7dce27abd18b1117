"""The one routine that puts a file or a directory store in place, atomically.

:func:`neurogeom.save` (netCDF) and :func:`neurogeom.scale.save_zarr` (Zarr) both write
through :func:`write_atomically`: the data go to a uniquely named temporary sibling of the
target (``.<name>.<random>.tmp`` in the target's folder, so the final rename never crosses a
file system), every byte is fsync'ed, and only then is the temporary renamed onto the
target and the folder fsync'ed. Readers see the old content or the new, never a part; two
writers racing for one path leave one of their results, whole. On any failure (including
``KeyboardInterrupt``) the temporary is removed and the target is left as it was. Only a
process killed outright can leave a ``.<name>.*.tmp`` behind; it is safe to delete.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import DataFormatError, FileWriteError, InputTypeError, NeurogeomError

__all__ = ["write_atomically"]

#: ``write(tmp)`` encodes the data into ``tmp`` (an existing empty file or directory). It may
#: return a callable that computes the rest (dask tasks): errors raised while encoding
#: mean the data cannot be stored; errors raised while computing are the computation's own.
Writer = Callable[[Path], Callable[[], None] | None]

_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
_RENAME_ATTEMPTS = 1000


def as_path(path: Any, what: str = "path") -> Path:
    """The one intake of file paths: str or PathLike, ``~`` expanded.

    Examples
    --------
    >>> as_path("~/x.nc") == Path.home() / "x.nc"
    True
    """
    try:
        return Path(os.fspath(path)).expanduser()
    except TypeError:
        raise InputTypeError(
            f"{what} is a {type(path).__name__}; expected a file path (str or pathlib.Path)."
        ) from None


def write_atomically(
    target: str | os.PathLike[str],
    write: Writer,
    *,
    directory: bool = False,
    overwrite: bool = True,
    exists_hint: str = "",
    replaceable: Callable[[Path], bool] | None = None,
    kind: str = "Dataset",
) -> Path:
    """Write ``target`` through a temporary sibling; return it as a Path.

    Parameters
    ----------
    target : path
        The file (``directory=False``) or directory store to put in place. Its parent
        folders are created.
    write : callable
        ``write(tmp)`` fills ``tmp``; see :data:`Writer`.
    directory : bool
        The target is a directory (a Zarr store) rather than one file.
    overwrite : bool
        Replace an existing target (a file always may be, atomically). With ``False`` an
        existing target is refused with ``exists_hint`` appended to the message.
    replaceable : callable, optional
        For ``directory=True``: whether an existing directory may be replaced (e.g. only
        if it is a Zarr store); one that may not is refused and left untouched.
    kind : str
        What is written, for messages ("Dataset", "Zarr store").

    Raises
    ------
    FileWriteError
        The target is of the wrong kind (a directory for a file, a file for a store), exists
        and may not be replaced, or the operating system refused a step (a folder that is
        not writable, a full disk, a failing fsync).
    DataFormatError
        ``write`` could not encode the data (an unsavable variable or attribute).

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_atomically(os.path.join(tempfile.mkdtemp(), "a.txt"), lambda t: t.write_text("hi") and None)
    >>> p.read_text()
    'hi'
    """
    out = as_path(target)
    _check_target(out, directory, overwrite, exists_hint, replaceable, kind)
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FileWriteError(
            err.errno,
            f"cannot create the folder {parent} to write {out} in ({err.strerror or err}); "
            "every part of the path must be a folder you may write to.",
        ) from err
    tmp: Path | None = None
    placed = False
    try:
        prefix, suffix = f".{out.name}.", ".tmp"
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=parent)
            os.close(fd)
            tmp = Path(name)
        try:
            finish = write(tmp)
        except (NeurogeomError, OSError):
            raise
        except Exception as err:
            notes = [str(n).splitlines()[0] for n in getattr(err, "__notes__", ()) if str(n)]
            detail = " ".join([str(err).rstrip("."), *notes])  # xarray names the variable in a note
            raise DataFormatError(
                f"could not write the {kind} to {out}: {detail} -- every variable must hold "
                "numbers, booleans or strings and every attribute a string, a number or a "
                "list of them; convert or drop the one named here."
            ) from err
        if finish is not None:
            finish()
        _set_mode(tmp, out, directory)
        _fsync_tree(tmp)
        _place(tmp, out, directory, overwrite, exists_hint)
        tmp, placed = None, True
        _fsync_dir(parent)
    except BaseException as err:
        if tmp is not None:
            _remove(tmp)
        if isinstance(err, OSError) and not isinstance(err, NeurogeomError):
            raise _write_error(err, out, kind, placed) from err
        raise
    return out


def _check_target(
    out: Path,
    directory: bool,
    overwrite: bool,
    exists_hint: str,
    replaceable: Callable[[Path], bool] | None,
    kind: str,
) -> None:
    if not directory and out.is_dir():
        raise FileWriteError(
            errno.EISDIR,
            f"{out} is a directory; expected the path of a file to write the {kind} to "
            f"(e.g. {out / 'geometry.nc'}). Choose another name or remove the directory.",
        )
    if directory and out.exists() and not out.is_dir():
        raise FileWriteError(
            errno.ENOTDIR,
            f"{out} is a file; a {kind} is a directory. Choose another path or remove the file.",
        )
    if directory and out.exists():
        if not overwrite:
            raise FileWriteError(errno.EEXIST, f"{out} exists; {exists_hint}".rstrip("; "))
        if replaceable is not None and not replaceable(out):
            raise FileWriteError(
                errno.EEXIST,
                f"{out} exists and is not a {kind}; refusing to replace a folder that was not "
                "written as one. Choose another path, or remove the folder yourself.",
            )


def _write_error(err: OSError, out: Path, kind: str, placed: bool) -> FileWriteError:
    reason = err.strerror or str(err)
    if err.errno in _NOT_WRITABLE:
        message = (
            f"cannot write the {kind} to {out}: the folder {out.parent} is not writable "
            f"({reason}); choose a writable folder or change its permissions."
        )
    elif err.errno == errno.ENOSPC:
        message = f"cannot write the {kind} to {out}: the disk is full ({reason}); free space."
    else:
        message = f"cannot write the {kind} to {out}: {reason} ({type(err).__name__})."
    if placed:  # only syncing the folder failed: the new content is in place, maybe not on disk
        return FileWriteError(
            err.errno,
            f"{out} was written, but its folder could not be synced to disk ({reason}); "
            "after a crash it may still hold the old content.",
        )
    return FileWriteError(err.errno, message + " Nothing was left behind.")


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would race other threads)
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _set_mode(tmp: Path, out: Path, directory: bool) -> None:
    """mkstemp/mkdtemp make private (0600/0700) entries; give the result the mode a plain
    ``open()``/``mkdir()`` would, or keep the mode of the file it replaces."""
    if not directory and out.is_file():
        mode = stat.S_IMODE(out.stat().st_mode)
    else:
        mode = (0o777 if directory else 0o666) & ~_umask()
    os.chmod(tmp, mode)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "posix":  # directories cannot be opened for fsync elsewhere
        _fsync_file(path)


def _fsync_tree(path: Path) -> None:
    if not path.is_dir():
        _fsync_file(path)
        return
    for root, _, files in os.walk(path, topdown=False):
        for name in files:
            _fsync_file(Path(root, name))
        _fsync_dir(Path(root))


def _place(tmp: Path, out: Path, directory: bool, overwrite: bool, exists_hint: str) -> None:
    if not directory:
        os.replace(tmp, out)  # atomic, over an existing file too
        return
    # A non-empty directory cannot be renamed over: move the old store aside, then retry.
    # A concurrent writer may win in between; the loop then moves its store aside too, so
    # the last rename standing is one whole store.
    old: list[Path] = []
    try:
        for _ in range(_RENAME_ATTEMPTS):
            try:
                os.rename(tmp, out)
                return
            except OSError as err:
                if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                if not overwrite:
                    raise FileWriteError(
                        errno.EEXIST,
                        f"{out} appeared while it was being written; {exists_hint}".rstrip("; "),
                    ) from err
            aside = out.with_name(f".{out.name}.{uuid.uuid4().hex}.old")
            try:
                os.rename(out, aside)
            except FileNotFoundError:
                continue
            old.append(aside)
        raise FileWriteError(errno.EBUSY, f"{out} kept being replaced by other writers; try again.")
    finally:
        for aside in old:
            shutil.rmtree(aside, ignore_errors=True)


def _remove(tmp: Path) -> None:
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        try:
            tmp.unlink()
        except OSError:
            pass
