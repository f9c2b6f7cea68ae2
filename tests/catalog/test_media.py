from __future__ import annotations

import errno
from pathlib import Path

import pytest

from artwork.catalog.media import MediaStore
from artwork.errors import InvalidInputError, StorageError


def test_write_is_atomic_and_readable(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    target = store.write("titles/t1/a.jpg", b"abc")
    assert target.read_bytes() == b"abc"
    assert store.exists("titles/t1/a.jpg")
    assert [p.name for p in target.parent.iterdir()] == ["a.jpg"]


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x.jpg", "titles/../../x", ""])
def test_paths_cannot_escape_the_root(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        MediaStore(tmp_path).path(bad)


def test_full_disk_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = MediaStore(tmp_path / "media")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.fsync", full)
    with pytest.raises(StorageError, match="free some disk space"):
        store.write("titles/t1/a.jpg", b"abc")
    assert list((tmp_path / "media" / "titles" / "t1").iterdir()) == []


def test_delete_removes_file_and_empty_folder(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    store.write("titles/t1/a.jpg", b"abc")
    store.delete("titles/t1/a.jpg")
    store.delete("titles/t1/a.jpg")  # twice is fine
    assert not (tmp_path / "media" / "titles" / "t1").exists()
