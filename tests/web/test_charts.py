"""The SVG charts: well-formed, accessible, and honest about empty data."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from artwork.web.charts import Point, empty_chart, histogram, interval_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    return root


def test_line_chart_draws_a_polyline_and_a_marker_per_point() -> None:
    series = {
        "a <v1>": [Point(0, 0.2, 0.1, 0.3), Point(10, 0.4, 0.3, 0.5)],
        "b": [Point(5, 0.9, 0.8, 1.2)],
    }
    root = _parse(line_chart(series, title="t & u", x_labels={0: "start"}, y_label="rate"))
    assert len(root.findall(f".//{SVG}polyline")) == 2
    assert len(root.findall(f".//{SVG}circle")) == 3
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "a <v1>" in texts and "start" in texts
    assert root.findtext(f"{SVG}title") == "t & u"


def test_interval_chart_skips_undefined_values_and_clips_to_the_axis() -> None:
    rows = [("x", Point(0, 0.5, 0.4, 0.6)), ("nan", Point(0, math.nan, 0, 1))]
    root = _parse(interval_chart(rows, title="t", x_label="v", colours=[0, 1]))
    assert len(root.findall(f".//{SVG}circle")) == 1
    assert "nan" not in [t.text for t in root.iter(f"{SVG}text")]
    wide = _parse(interval_chart([("w", Point(0, 2.0, -1.0, 5.0))], title="t", x_label="v"))
    assert wide.find(f".//{SVG}circle") is not None
    with pytest.raises(ValueError, match="colours"):
        interval_chart(rows, title="t", x_label="v", colours=[0])


def test_histogram_counts_every_value_and_marks_the_window() -> None:
    root = _parse(histogram([1.0, 2.0, 2.5, 9.0], title="lag", x_label="s", bins=4, marker=10))
    counts = [
        int(r.findtext(f"{SVG}title", "0").split()[0])
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    ]
    assert sum(counts) == 4
    assert root.find(f".//{SVG}line[@stroke-dasharray]") is not None
    with pytest.raises(ValueError, match="bins"):
        histogram([1.0], title="t", x_label="s", bins=0)


def test_empty_charts_say_why() -> None:
    assert "no data yet" in line_chart({}, title="t")
    assert "no rewards yet" in histogram([], title="t", x_label="s")
    _parse(empty_chart("t", "nothing"))
