"""Only MP4/MOV, Matroska/WebM, MPEG-TS and AVI are opened, judged by their bytes, and only
as local files: playlists and other FFmpeg demuxers are refused."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from artwork.errors import VideoError
from artwork.video.containers import sniff
from artwork.video.decode import probe


def _write(path: Path, fmt: str, codec: str = "mpeg4") -> Path:
    with av.open(str(path), mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            image = np.full((48, 64, 3), i * 20, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize(
    ("name", "fmt", "kind"),
    [
        ("a.mp4", "mp4", "mp4"),
        ("a.mov", "mov", "mp4"),
        ("a.mkv", "matroska", "matroska"),
        ("a.ts", "mpegts", "mpegts"),
        ("a.avi", "avi", "avi"),
    ],
)
def test_allowed_containers_open(tmp_path: Path, name: str, fmt: str, kind: str) -> None:
    path = _write(tmp_path / name, fmt)
    assert sniff(path.read_bytes()[:1024]) == kind
    assert probe(path).width == 64


def test_a_webm_opens(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.webm", "webm", codec="libvpx")
    assert sniff(path.read_bytes()[:1024]) == "matroska"
    assert probe(path).width == 64


def test_hls_playlist_naming_a_local_file_is_refused(tmp_path: Path) -> None:
    secret = _write(tmp_path / "secret.ts", "mpegts")
    playlist = tmp_path / "innocent.mp4"
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{secret}\n#EXT-X-ENDLIST\n"
    )
    with pytest.raises(VideoError, match="not a video in an accepted container"):
        probe(playlist)


@pytest.mark.parametrize(
    "text",
    [
        "ffconcat version 1.0\nfile '{secret}'\n",
        "file '{secret}'\n",
        "DEFACED " * 64,
    ],
)
def test_concat_lists_and_text_are_refused(tmp_path: Path, text: str) -> None:
    secret = _write(tmp_path / "secret.mp4", "mp4")
    upload = tmp_path / "upload.mov"
    upload.write_text(text.format(secret=secret))
    with pytest.raises(VideoError):
        probe(upload)


def test_an_image_is_refused(tmp_path: Path) -> None:
    import cv2

    image = tmp_path / "frame.mp4"
    ok, data = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    assert ok
    image.write_bytes(data.tobytes())
    with pytest.raises(VideoError, match="not a video in an accepted container"):
        probe(image)
