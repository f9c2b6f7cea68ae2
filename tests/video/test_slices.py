"""Intra pictures that are no keyframe, from H.264 slice headers (:mod:`artwork.video.slices`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from artwork.testing.synthetic import Segment, write_synthetic_video
from artwork.video.decode import PacketLog, iter_keyframes
from artwork.video.slices import intra_test

# Slice headers' first bits: first_mb_in_slice 0 ("1"), then slice_type as Exp-Golomb.
SLICE_TYPE_BITS = {0: "1", 1: "010", 2: "011", 5: "00110", 6: "00111", 7: "0001000"}


def _nal(kind: int, slice_type: int) -> bytes:
    bits = "1" + SLICE_TYPE_BITS[slice_type]
    bits += "1" + "0" * (-(len(bits) + 1) % 8)  # stop bit, padding
    header = bytes([0x60 | kind])  # nal_ref_idc 3
    return header + int(bits, 2).to_bytes(len(bits) // 8, "big") + b"\x88\x84"


def _avcc(*nals: bytes) -> bytes:
    return b"".join(len(n).to_bytes(4, "big") + n for n in nals)


AVCC_EXTRADATA = bytes([1, 0x64, 0, 0x28, 0xFF, 0xE1, 0])
SEI = bytes([0x06, 0x05, 0x02, 0xAA, 0xBB, 0x80])
AUD = bytes([0x09, 0xF0])


@pytest.mark.parametrize(
    ("kind", "slice_type", "intra"),
    [
        (1, 7, True),
        (1, 2, True),
        (1, 0, False),
        (1, 5, False),
        (1, 1, False),
        (1, 6, False),
        (5, 7, False),
    ],
)
def test_only_non_idr_intra_slices_count(kind: int, slice_type: int, intra: bool) -> None:
    slice_nal = _nal(kind, slice_type)
    length_prefixed = intra_test("h264", AVCC_EXTRADATA)
    annex_b = intra_test("h264", None)
    assert length_prefixed is not None and annex_b is not None
    # The first slice is found behind the units that may lead a picture (AUD, SEI).
    assert length_prefixed(_avcc(AUD, SEI, slice_nal)) is intra
    assert (
        annex_b(b"\x00\x00\x00\x01" + AUD + b"\x00\x00\x01" + SEI + b"\x00\x00\x01" + slice_nal)
        is intra
    )
    assert length_prefixed(memoryview(_avcc(slice_nal))) is intra


def test_other_codecs_and_garbage_are_not_read() -> None:
    assert intra_test("hevc", b"\x01" * 30) is None
    assert intra_test("vp9", None) is None
    test = intra_test("h264", AVCC_EXTRADATA)
    assert test is not None
    assert test(b"") is False
    assert test(b"\x00\x00\x00\x09\x41") is False  # a length running past the packet
    assert test(_avcc(bytes([0x41]))) is False  # a slice header cut short


def test_a_shot_coded_afresh_soon_after_a_keyframe_is_logged(tmp_path: Path) -> None:
    # x264 codes the second cut, 0.4 s after the first (inside its min-keyint), as an I
    # picture that is no keyframe.
    truth = write_synthetic_video(
        tmp_path / "cuts.mp4",
        plan=[Segment("shot", 3.0), Segment("shot", 0.4), Segment("shot", 3.0)],
    )
    log = PacketLog()
    keyframes = [frame.time_s for frame in iter_keyframes(truth.path, width=64, packets=log)]
    assert keyframes == pytest.approx([0.0, 3.0])
    assert list(log.intra_times()) == pytest.approx([3.4])
    assert truth.cuts_s == pytest.approx((3.0, 3.4))
