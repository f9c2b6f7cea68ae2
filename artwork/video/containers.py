"""Which files are opened as video, and how: sniffed from their bytes, against an allow-list.

FFmpeg guesses a file's format from its content and name and will happily open playlists
(HLS ``.m3u8``, ``concat``), text and image sequences, which name *other* files or URLs: a
134-byte playlist can make the extractor read any file on the server. So a file is opened
only when its first bytes say it is one of these containers, with that demuxer forced and
the ``file`` protocol alone:

=============  =====================================  ==================
container      magic                                  FFmpeg demuxer
=============  =====================================  ==================
MP4 / MOV      ``ftyp`` (or ``moov``/``mdat``/...)    ``mov`` (no drefs)
Matroska/WebM  EBML header ``1A 45 DF A3``            ``matroska``
MPEG-TS        sync byte ``0x47`` every 188 bytes     ``mpegts``
AVI            ``RIFF....AVI ``                       ``avi``
H.264 / HEVC   Annex B start code, then SPS/VPS/AUD   ``h264`` / ``hevc``
=============  =====================================  ==================

(Raw H.264/HEVC elementary streams hold no references to anything else.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from artwork.errors import VideoError

if TYPE_CHECKING:
    from av.container import InputContainer

SNIFF_BYTES = 1024
_MP4_ATOMS = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
#: FFmpeg options applied to every input: no protocol but plain files, no external data
#: references from MOV/MP4 (``enable_drefs`` is off by default; kept explicit).
OPEN_OPTIONS = {"protocol_whitelist": "file", "enable_drefs": "0"}
ALLOWED = {
    "mp4": "mov",
    "matroska": "matroska",
    "mpegts": "mpegts",
    "avi": "avi",
    "h264": "h264",
    "hevc": "hevc",
}


def sniff(head: bytes) -> str | None:
    """The container the leading bytes of a file announce (``mp4``, ``matroska``,
    ``mpegts``, ``avi``, ``h264``, ``hevc``), or ``None`` when none of the allowed ones."""
    if len(head) >= 8 and head[4:8] in _MP4_ATOMS:
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    # MPEG-TS: 188-byte packets, each starting 0x47 (M2TS has a 4-byte prefix: 192 bytes).
    for size, offset in ((188, 0), (192, 4)):
        if len(head) >= offset + 2 * size + 1 and all(
            head[offset + i * size] == 0x47 for i in range(3)
        ):
            return "mpegts"
    for start in (b"\x00\x00\x00\x01", b"\x00\x00\x01"):
        if head.startswith(start) and len(head) > len(start):
            nal = head[len(start)]
            if nal & 0x80 == 0 and nal & 0x1F in (6, 7, 9):  # H.264 SEI, SPS, AUD
                return "h264"
            if nal & 0x80 == 0 and (nal >> 1) & 0x3F in (32, 33, 34, 35, 39):  # HEVC
                return "hevc"
    return None


def sniff_file(path: Path) -> str:
    """The allowed container of the file at ``path``.

    Raises:
        VideoError: the file cannot be read, or is not MP4/MOV, Matroska/WebM, MPEG-TS or AVI.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise VideoError(f"{path}: cannot read the file ({exc.strerror}); check the path") from exc
    kind = sniff(head)
    if kind is None:
        raise VideoError(
            f"{path}: not a video in an accepted container (judged by its content); "
            "upload an MP4, MOV, Matroska, WebM, MPEG-TS or AVI file"
        )
    return kind


def open_input(path: Path) -> InputContainer:
    """Open ``path`` for reading with the demuxer of its sniffed container, files only.

    Raises:
        VideoError: the file is not an allowed container.
        av.error.FFmpegError: FFmpeg cannot read it (the caller words the error).
    """
    import av

    demuxer = ALLOWED[sniff_file(path)]
    return av.open(str(path), mode="r", format=demuxer, options=dict(OPEN_OPTIONS))
