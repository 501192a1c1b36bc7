"""Output files written safely: unique temporary names, checked writes, free space, commit.

Every output of every algorithm goes through here (rasters through :mod:`.raster_io`):

- it is written inside a private folder made with :func:`tempfile.mkdtemp` (mode 0700, created
  exclusively) beside the destination, so a symlink planted at a predictable name is never
  followed and two runs never share a temporary file;
- before it is renamed onto the destination it is flushed to disk (``fsync``) and verified by
  the caller's check (a raster is re-opened and read back); a failure (a full disk, an I/O
  error, a truncated file) is a :class:`GeohazardError` naming the cause;
- nothing partial is ever left: on any failure or cancellation the private folder is removed
  and the destination keeps whatever it held before;
- several outputs of one run can be committed all or none (:func:`commit_all`);
- :func:`check_free_space` refuses, before any compute, outputs whose upper-bound size does not
  fit in the free space of their folder.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from ..core.errors import GeohazardError
from ..core.progress import Reporter

# Sidecar files GDAL may write next to a raster; moved along with it.
SIDECARS = (".aux.xml",)
# The style QGIS loads with a file (its name with this extension); moved along when present.
STYLE_SIDECAR = ".qml"
# Extra room asked for on top of the outputs' own size (file system blocks, metadata).
FREE_SPACE_MARGIN = 1024 * 1024


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``; binary units as file managers show them."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover (loop always returns)


def output_folder(path: str) -> str:
    """The folder an output file goes to (absolute)."""
    return os.path.dirname(os.path.abspath(path)) or "."


def free_bytes(folder: str) -> int | None:
    """Bytes free for this user in ``folder``'s file system; None when it cannot be told."""
    try:
        return int(shutil.disk_usage(folder).free)
    except OSError:
        return None


def is_disk_full(exc: BaseException | None, folder: str) -> bool:
    """True when ``exc`` says "no space left" or the folder's file system is (almost) full."""
    text = str(exc or "").lower()
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return True
    if "no space left" in text or "disk full" in text or "quota" in text:
        return True
    free = free_bytes(folder)
    return free is not None and free < FREE_SPACE_MARGIN


def write_failed(path: str, exc: BaseException | None, existed: bool) -> GeohazardError:
    """The one sentence a user reads when writing an output failed."""
    folder = output_folder(path)
    name = os.path.basename(path)
    if is_disk_full(exc, folder):
        cause = f"the disk holding '{folder}' is full"
        advice = "Free some space or choose another folder."
    else:
        cause = f"{exc}" if exc is not None else "the file could not be read back"
        advice = "Check the folder (it must exist and be writable) or choose another one."
    kept = f"the previous '{name}' is unchanged" if existed else "nothing was left behind"
    return GeohazardError(f"Writing '{name}' failed ({cause}); {kept}. {advice}")


@dataclass(frozen=True)
class PlannedOutput:
    """An output a run will write, with an upper bound of its size.

    Args:
        path: destination file.
        max_bytes: the most it can take on disk (e.g. uncompressed pixels plus headers).
        description: what it holds, e.g. ``"12000 x 9000 px, 4 bands float32"``.
    """

    path: str
    max_bytes: int
    description: str = ""


def check_free_space(outputs: Sequence[PlannedOutput], reporter: Reporter | None = None) -> None:
    """Refuse, before any compute, outputs that cannot fit in their folder's free space.

    Outputs on the same file system are added up. The size used is an upper bound (outputs are
    compressed, but compression cannot be guaranteed: noise or offsets barely compress), so a
    run that could only fit if compression were kind is refused rather than failing hours later.
    Each output's expected size is logged.
    """
    rep = reporter or Reporter()
    by_device: dict[object, list[PlannedOutput]] = {}
    for out in outputs:
        folder = output_folder(out.path)
        try:
            key: object = os.stat(folder).st_dev
        except OSError:
            key = folder
        by_device.setdefault(key, []).append(out)
        what = f" ({out.description})" if out.description else ""
        rep.info(
            f"Output '{os.path.basename(out.path)}'{what}: up to "
            f"{format_bytes(out.max_bytes)} on disk."
        )
    for group in by_device.values():
        folder = output_folder(group[0].path)
        free = free_bytes(folder)
        if free is None:
            continue
        needed = sum(o.max_bytes for o in group) + FREE_SPACE_MARGIN * len(group)
        if free < needed:
            names = ", ".join(f"'{os.path.basename(o.path)}'" for o in group)
            raise GeohazardError(
                f"Not enough free disk space: {names} need up to {format_bytes(needed)} but "
                f"'{folder}' has only {format_bytes(free)} free. Free some space, choose another "
                "folder, or process a smaller area. Nothing was computed."
            )


def _fsync(path: str) -> None:
    """Flush a written file to the disk, so a late "no space left" surfaces here."""
    flags = os.O_RDWR | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StagedOutput:
    """One output being written under a private temporary folder beside its destination.

    ``tmp`` is the path to write (same base name as the destination, so drivers that look at the
    extension behave). :meth:`finish` flushes and verifies it; :meth:`commit` renames it onto the
    destination; :meth:`discard` removes everything. Prefer :func:`staged_output`.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        folder, base = os.path.split(self.path)
        self.existed = os.path.lexists(self.path)
        try:
            self.tmpdir = tempfile.mkdtemp(prefix=f".{base}.", suffix=".partial", dir=folder)
        except OSError as exc:
            raise write_failed(self.path, exc, self.existed) from exc
        self.tmp = os.path.join(self.tmpdir, base)
        self.verified = False

    def finish(self, verify: Callable[[str], None] | None = None) -> None:
        """Flush the temporary file to disk and run ``verify`` on it (which raises if bad)."""
        try:
            if not os.path.isfile(self.tmp):
                raise GeohazardError("the file was not created")
            _fsync(self.tmp)
            if verify is not None:
                verify(self.tmp)
        except Exception as exc:  # noqa: BLE001 (every failure becomes the same clear message)
            self.discard()
            raise write_failed(self.path, exc, self.existed) from exc
        self.verified = True

    def _move_sidecars(self) -> None:
        for ext in SIDECARS:
            new, old = self.tmp + ext, self.path + ext
            if os.path.exists(new):
                os.replace(new, old)
            elif os.path.isfile(old) and not os.path.islink(old):
                os.remove(old)  # statistics and band names of the file just replaced
        style = os.path.splitext(self.tmp)[0] + STYLE_SIDECAR
        if os.path.isfile(style):  # a style written beside the staged file goes along with it
            os.replace(style, os.path.splitext(self.path)[0] + STYLE_SIDECAR)

    def commit(self) -> None:
        """Rename the verified file onto the destination (atomic on one file system)."""
        if not self.verified:
            raise RuntimeError("finish() must succeed before commit()")
        try:
            os.replace(self.tmp, self.path)
            self._move_sidecars()
        except OSError as exc:
            self.discard()
            raise write_failed(self.path, exc, self.existed) from exc
        self.discard()

    def discard(self) -> None:
        """Remove the private folder and everything in it."""
        shutil.rmtree(self.tmpdir, ignore_errors=True)


@contextmanager
def staged_output(
    path: str, verify: Callable[[str], None] | None = None, commit: bool = True
) -> Iterator[StagedOutput]:
    """Yield a :class:`StagedOutput`; on success flush, verify and (unless ``commit`` is False)
    rename it onto ``path``; on any exception remove it and leave ``path`` untouched."""
    staged = StagedOutput(path)
    try:
        yield staged
    except BaseException:
        staged.discard()
        raise
    staged.finish(verify)
    if commit:
        staged.commit()


def commit_all(outputs: Sequence[StagedOutput]) -> None:
    """Rename several verified outputs onto their destinations, all or none.

    Existing destinations are first moved aside into the outputs' private folders; if any rename
    fails, every destination gets its previous file back and the error is raised.
    """
    backups: list[tuple[StagedOutput, str | None]] = []
    try:
        for out in outputs:
            if not out.verified:
                raise RuntimeError("finish() must succeed before commit_all()")
            backup = None
            if os.path.lexists(out.path):
                backup = os.path.join(out.tmpdir, ".previous")
                os.replace(out.path, backup)
            backups.append((out, backup))
            os.replace(out.tmp, out.path)
    except OSError as exc:
        for out, backup in reversed(backups):
            try:
                if backup is not None:
                    os.replace(backup, out.path)
                elif os.path.lexists(out.path):
                    os.remove(out.path)
            except OSError:
                pass
        for out in outputs:
            out.discard()
        failed = backups[-1][0] if backups else outputs[0]
        raise write_failed(failed.path, exc, failed.existed) from exc
    for out in outputs:
        out._move_sidecars()
        out.discard()


def discard_all(outputs: Sequence[StagedOutput]) -> None:
    for out in outputs:
        out.discard()


def verify_text(expected: bytes) -> Callable[[str], None]:
    """A check that a written file holds exactly ``expected``."""

    def check(path: str) -> None:
        size = os.path.getsize(path)
        if size != len(expected):
            raise GeohazardError(f"only {size} of {len(expected)} bytes reached the disk")
        with open(path, "rb") as fh:
            if fh.read() != expected:
                raise GeohazardError("the file read back differs from what was written")

    return check


def write_bytes_staged(path: str, data: bytes) -> StagedOutput:
    """Write ``data`` to a verified staged output (not yet committed); the caller commits."""
    staged = StagedOutput(path)
    try:
        # O_EXCL: the name inside the private folder is created here, never opened through a link
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(staged.tmp, flags, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        staged.discard()
        raise write_failed(path, exc, staged.existed) from exc
    staged.finish(verify_text(data))
    return staged


def write_text_file(path: str, text: str) -> None:
    """Write a UTF-8 text file (a report) safely: checked, renamed only when complete."""
    write_bytes_staged(path, text.encode("utf-8")).commit()


def check_text_output_path(path: str, extensions: tuple[str, ...], kind: str) -> None:
    """Fail early, before any compute, when a text output (report) cannot be written."""
    if not path:
        raise GeohazardError(f"No {kind} path was given.")
    folder = output_folder(path)
    name = os.path.basename(path)
    if not name.lower().endswith(extensions):
        raise GeohazardError(f"The {kind} '{name}' must be a {' or '.join(extensions)} file.")
    if not os.path.isdir(folder):
        raise GeohazardError(f"The {kind} folder '{folder}' does not exist or is not a folder.")
    if not os.access(folder, os.W_OK):
        raise GeohazardError(f"The {kind} folder '{folder}' is not writable.")
    if os.path.isdir(path):
        raise GeohazardError(f"The {kind} path '{path}' is a folder, not a file name.")


def _same_path(a: str, b: str) -> bool:
    """True when two paths name one file (links, relative paths and hard links resolved)."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _inside(path: str, folder: str) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real.startswith(root.rstrip(os.sep) + os.sep)


def overwritten_input(output: str, inputs: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The input an output file would overwrite, as ``(parameter, path)``, or None.

    The rule every file output of every algorithm passes before a run starts: an output may
    not be an input file (under any name: links and hard links count), nor an existing file
    inside an input folder (a training folder whose files the run reads).

    Args:
        output: the output's path.
        inputs: ``(parameter name, path)`` of every input file or folder of the run.
    """
    target = output.split("|")[0]
    for name, path in inputs:
        path = path.split("|")[0]
        if os.path.isdir(path):
            if os.path.lexists(target) and _inside(target, path):
                return name, path
        elif _same_path(target, path):
            return name, path
    return None
