"""Which H.264 packets hold a picture coded afresh without being a keyframe.

x264 marks a scene change with a keyframe (an IDR picture) unless the last one is too recent
(``min-keyint``): then it codes the first picture of the new shot as a non-IDR I picture,
which containers do not flag as a keyframe. Under heavy grain every P picture is costly, so
such an I picture no longer stands out by its size (the benchmark's grainy film: 1.75 times
its neighbours), but its slice header says what it is. Reading it costs the first bytes of
the packet: the NAL unit type (1: a non-IDR slice) and the slice header's first two
Exp-Golomb numbers (``first_mb_in_slice``, ``slice_type``; 2 and 7 are I, 4 and 9 SI).

Both ways H.264 is stored are read: length-prefixed NAL units (MP4, MKV, MOV: the stream's
``avcC`` extradata gives the length size) and Annex B start codes (MPEG-TS, raw streams).
Other codecs give ``None``: their intra pictures are not looked for.
"""

from __future__ import annotations

from collections.abc import Callable

NAL_SLICE = 1
"""NAL unit type of a slice of a non-IDR picture."""
NAL_IDR = 5
INTRA_SLICE_TYPES = frozenset({2, 4, 7, 9})
"""I and SI slices (types 7 and 9: every slice of the picture has that type)."""
SCAN_BYTES = 4096
"""How far into an Annex B packet the first slice is looked for (after its AUD, SPS, PPS and
SEI units)."""

IntraTest = Callable[[bytes | memoryview], bool]


def intra_test(codec: str, extradata: bytes | None) -> IntraTest | None:
    """A function telling whether a packet's picture is a non-IDR intra picture, for a stream
    of this codec (FFmpeg's name) and extradata; ``None`` where that is not known (not
    H.264)."""
    if codec != "h264":
        return None
    if extradata and len(extradata) >= 7 and extradata[0] == 1:  # avcC: length-prefixed
        size = (extradata[4] & 0x03) + 1
        return lambda data: _length_prefixed(data, size)
    return _annex_b


def _length_prefixed(data: bytes | memoryview, size: int) -> bool:
    at = 0
    end = len(data)
    while at + size < end:
        length = int.from_bytes(data[at : at + size], "big")
        start = at + size
        kind = data[start] & 0x1F
        if kind in (NAL_SLICE, NAL_IDR):
            return kind == NAL_SLICE and _intra_slice(data, start + 1, min(end, start + length))
        at = start + length
    return False


def _annex_b(data: bytes | memoryview) -> bool:
    view = bytes(data[:SCAN_BYTES])
    at = view.find(b"\x00\x00\x01")
    while at >= 0 and at + 3 < len(view):
        start = at + 3
        kind = view[start] & 0x1F
        if kind in (NAL_SLICE, NAL_IDR):
            return kind == NAL_SLICE and _intra_slice(view, start + 1, len(view))
        at = view.find(b"\x00\x00\x01", start)
    return False


def _intra_slice(data: bytes | memoryview, start: int, end: int) -> bool:
    """Whether the slice header at ``data[start:end]`` (after its NAL header byte) is of an
    I or SI slice. Its first two fields fit in a few bytes, where no emulation-prevention
    byte can stand (those follow two zero bytes, and the first field starts with a 1 for a
    picture's first slice)."""
    bits = _Bits(data, start, min(end, start + 8))
    bits.exp_golomb()  # first_mb_in_slice
    slice_type = bits.exp_golomb()
    return slice_type in INTRA_SLICE_TYPES


class _Bits:
    """Reads unsigned Exp-Golomb numbers from a few bytes, most significant bit first."""

    def __init__(self, data: bytes | memoryview, start: int, end: int) -> None:
        self._value = int.from_bytes(data[start:end], "big")
        self._left = 8 * max(0, end - start)

    def _bit(self) -> int:
        if self._left <= 0:
            raise _Truncated
        self._left -= 1
        return (self._value >> self._left) & 1

    def exp_golomb(self) -> int:
        zeros = 0
        try:
            while self._bit() == 0:
                zeros += 1
                if zeros > 31:
                    return -1
            suffix = 0
            for _ in range(zeros):
                suffix = (suffix << 1) | self._bit()
        except _Truncated:
            return -1
        return (1 << zeros) - 1 + suffix


class _Truncated(Exception):
    """The bytes ran out inside a number."""
