"""The media store: variant images on a local folder, written atomically, served by path."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path, PurePosixPath

from artwork.errors import InvalidInputError, StorageError


class MediaStore:
    """Files under one root folder, addressed by relative POSIX paths (``titles/t1/v.jpg``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, relative: str) -> Path:
        """The absolute path of ``relative``, refusing anything that escapes the root.

        Raises:
            InvalidInputError: ``relative`` is absolute or climbs out of the media folder.
        """
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise InvalidInputError(f"media path {relative!r} must be relative, without '..'")
        return self.root.joinpath(*pure.parts)

    def write(self, relative: str, data: bytes) -> Path:
        """Write ``data`` at ``relative`` atomically (temporary file, fsync, rename).

        Raises:
            StorageError: the disk is full or the folder is not writable; nothing is left behind.
        """
        target = self.path(relative)
        tmp_name: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except OSError as exc:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
            hint = "free some disk space" if exc.errno == errno.ENOSPC else "check permissions"
            raise StorageError(f"cannot write media file {target}: {exc.strerror}; {hint}") from exc
        return target

    def delete(self, relative: str) -> None:
        """Remove a file if it exists, and its folder once empty."""
        target = self.path(relative)
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        with contextlib.suppress(OSError):
            target.parent.rmdir()

    def exists(self, relative: str) -> bool:
        return self.path(relative).is_file()
