"""Spill files: where records go when the in-memory queue is full.

A spill file is a sequence of frames, each ``MWS1 | payload length (u32 LE) | crc32 (u32 LE) |
payload``, where the payload is one record as an Arrow IPC stream (the same columns it gets in
Parquet). Every frame is written with one ``write`` to an ``O_APPEND`` descriptor, so a killed
process leaves whole frames and at most one cut-off frame at the end. A reader checks length and
checksum, skips a damaged frame by searching for the next marker, and recovers everything else.

The process that writes a spill file holds an exclusive ``flock`` on it; recovery only takes
files nobody holds, so several processes can share one log folder.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from modelward.refs import check_name

try:
    import fcntl
except ImportError:  # Windows has no flock: there, give each process its own log folder
    fcntl = None  # type: ignore[assignment]

SPILL_SUFFIX = ".spill"
DAMAGED_SUFFIX = ".damaged"
MAGIC = b"MWS1"
_HEADER = struct.Struct("<4sII")


@dataclass(frozen=True)
class Damaged:
    """A stretch of a spill file that holds no readable record."""

    offset: int
    reason: str


@dataclass
class SpillFile:
    """One spill file, open and locked by this process until :meth:`close`."""

    path: Path
    fd: int

    def close(self) -> None:
        """Close the file, which releases the lock."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def encode_frame(table: pa.Table) -> bytes:
    """``table`` as one framed, checksummed record."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    payload: bytes = sink.getvalue().to_pybytes()
    return _HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


class SpillWriter:
    """Appends frames to this process's current spill file, created on first use."""

    def __init__(self, folder: Path, prefix: str) -> None:
        self.folder = folder
        self.prefix = prefix
        self._current: SpillFile | None = None
        self._seq = 0

    def append(self, table: pa.Table) -> None:
        """Append one record; on failure the file is cut back to its last whole frame."""
        frame = encode_frame(table)
        if self._current is None:
            self._current = self._create()
        fd = self._current.fd
        size = os.fstat(fd).st_size
        try:
            view = memoryview(frame)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            os.ftruncate(fd, size)
            raise

    def seal(self) -> SpillFile | None:
        """Stop appending to the current file and hand it over (still locked), if there is one."""
        current, self._current = self._current, None
        return current

    def close(self) -> None:
        """Close the current file; it stays on disk for the next recovery."""
        current = self.seal()
        if current is not None:
            current.close()

    def _create(self) -> SpillFile:
        # Created under a hidden name and renamed once locked, so recovery never takes it.
        self.folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"{self.prefix}-{self._seq}{SPILL_SUFFIX}"
        temp = self.folder / f".{name}.tmp"
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        _lock(fd, blocking=True)
        os.replace(temp, self.folder / name)
        return SpillFile(self.folder / name, fd)


def claim_orphans(folder: Path) -> list[SpillFile]:
    """Spill files that no live process holds, each now locked by this process."""
    claimed = []
    for path in sorted(folder.glob(f"*{SPILL_SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            _lock(fd, blocking=False)
            # Recovered and removed by someone else between listing and locking?
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except (BlockingIOError, FileNotFoundError):
            same = False
        if same:
            claimed.append(SpillFile(path, fd))
        else:
            os.close(fd)
    return claimed


def _lock(fd: int, *, blocking: bool) -> None:
    """Take an exclusive lock on ``fd``; BlockingIOError if another process holds it."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)


def read_frames(spill: SpillFile) -> Iterator[pa.Table | Damaged]:
    """Every record in ``spill``, in order, with a :class:`Damaged` for each unreadable stretch."""
    size = os.fstat(spill.fd).st_size
    if size == 0:
        return
    with mmap.mmap(spill.fd, size, access=mmap.ACCESS_READ) as data:
        offset = 0
        while offset < size:
            table, reason, end = _frame_at(data, offset, size)
            if table is not None:
                yield table
                offset = end
                continue
            yield Damaged(offset, reason)
            found = data.find(MAGIC, offset + 1)
            offset = size if found < 0 else found


def _frame_at(data: mmap.mmap, offset: int, size: int) -> tuple[pa.Table | None, str, int]:
    if size - offset < _HEADER.size:
        return None, "cut off inside a frame header", size
    magic, length, crc = _HEADER.unpack_from(data, offset)
    if magic != MAGIC:
        return None, "no frame marker", offset
    start = offset + _HEADER.size
    if start + length > size:
        return None, f"cut off: {size - start} of {length} bytes present", size
    payload = data[start : start + length]
    if zlib.crc32(payload) != crc:
        return None, "checksum mismatch", offset
    try:
        table = pa.ipc.open_stream(payload).read_all()
        check_name(table.column("model")[0].as_py())
        table.column("time")
    except Exception as exc:  # an unreadable or foreign payload is damage, whatever it raises
        return None, f"not an inference record ({type(exc).__name__})", offset
    return table, "", start + length
