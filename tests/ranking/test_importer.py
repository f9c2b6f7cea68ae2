from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from artwork.domain import Title
from artwork.errors import ImportFormatError
from artwork.ranking.importer import parse_timestamp, read_interactions_csv

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TITLES = {"a": Title("a", "A", (), 100.0), "b": Title("b", "B", (), None)}


def write(tmp_path: Path, text: str, name: str = "plays.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_rows_with_every_timestamp_form(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffuser_id,title_id,timestamp,seconds,duration\n"
        "u1,a,2026-05-01T10:00:00Z,60,\n"
        "u2,b,2026-05-01 10:00:00,30.5,90\n"
        "u3,a,1777000000,100,100\n"
        "\n"
        "u4,a,2026-05-01T12:00:00+02:00,0,\n",
    )
    parsed = read_interactions_csv(path, TITLES, NOW)
    assert parsed.rejected == [] and parsed.rows == 4
    first, second, third, fourth = parsed.interactions
    assert first.timestamp == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert second.timestamp == datetime(2026, 5, 1, 10, tzinfo=UTC)  # naive means UTC
    assert second.duration_s == 90.0 and first.duration_s is None
    assert third.timestamp == datetime.fromtimestamp(1777000000, tz=UTC)
    assert fourth.timestamp == datetime(2026, 5, 1, 10, tzinfo=UTC)


def test_bad_rows_are_rejected_with_their_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "user_id,title_id,timestamp,seconds,duration,device\n"
        "u1,a,2026-05-01T10:00:00Z,60,,tv\n"  # 2 ok
        "u1,zzz,2026-05-01T10:00:00Z,60,,tv\n"  # 3 unknown title
        "u1,a,yesterday,60,,tv\n"  # 4 bad time
        "u1,a,2026-05-01T10:00:00Z,-5,,tv\n"  # 5 negative seconds
        "u1,a,2026-05-01T10:00:00Z,abc,,tv\n"  # 6 not a number
        "u1,a,2026-05-01T10:00:00Z,500,,tv\n"  # 7 more than the runtime
        "u1,b,2026-05-01T10:00:00Z,50,0,tv\n"  # 8 zero duration
        ",a,2026-05-01T10:00:00Z,5,,tv\n"  # 9 no member
        "u1,a,2030-01-01T00:00:00Z,5,,tv\n"  # 10 in the future
        "u1,a\n"  # 11 short
        '"u\nx",a,2026-05-01T10:00:00Z,nan,,tv\n'  # 12-13 quoted newline, nan
        "u2,b,2026-05-01T10:00:00Z,50000,,tv\n",
    )  # 14 ok: b has no runtime
    parsed = read_interactions_csv(path, TITLES, NOW)
    assert [i.user_id for i in parsed.interactions] == ["u1", "u2"]
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "unknown title 'zzz'" in reasons[3]
    assert "timestamp 'yesterday'" in reasons[4]
    assert "seconds must be >= 0" in reasons[5]
    assert "seconds 'abc' is not a number" in reasons[6]
    assert "exceed the runtime 100" in reasons[7]
    assert "duration must be > 0" in reasons[8]
    assert "user_id is empty" in reasons[9]
    assert "future" in reasons[10]
    assert "expected 6 fields" in reasons[11]
    assert "finite" in reasons[12]
    assert parsed.rows == 12


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"", "empty"),
        (b"user_id,title_id,when,seconds\nu,a,1,1\n", "no column timestamp"),
        (b"user_id,title_id,timestamp,seconds,seconds\n", "twice"),
        (b"user_id,title_id,timestamp,seconds\n\xff\xfe\x00bad\n", "UTF-8"),
    ],
)
def test_unreadable_files_raise_one_error(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "plays.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportFormatError, match=message) as caught:
        read_interactions_csv(path, TITLES, NOW)
    assert "\n" not in caught.value.message


def test_parse_timestamp_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("soon")
    with pytest.raises(ValueError):
        parse_timestamp("inf")
