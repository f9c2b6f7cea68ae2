from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from artwork.demo.catalog import SAMPLE_TITLES, build_sample_catalog, write_slideshow
from artwork.testing.keys import api_client
from artwork.wiring import Services


def test_slideshow_is_a_real_h264_video(tmp_path: Path) -> None:
    photos = [np.full((90, 120, 3), value, dtype=np.uint8) for value in (40, 200)]
    path = tmp_path / "s.mp4"
    write_slideshow(photos, path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = list(container.decode(stream))
    assert len(frames) == 100
    assert (frames[0].width, frames[0].height) == (640, 360)
    assert not (tmp_path / "s.partial.mp4").exists()


@pytest.mark.slow
def test_demo_catalogue_gives_a_homepage_of_several_rows(ingesting_services: Services) -> None:
    build_sample_catalog(ingesting_services, users=40, log=lambda _line: None)
    assert ingesting_services.catalog.count_titles() == len(SAMPLE_TITLES)
    build_sample_catalog(ingesting_services, users=40, log=lambda _line: None)  # idempotent
    assert ingesting_services.catalog.count_titles() == len(SAMPLE_TITLES)
    with api_client(ingesting_services) as client:
        rows = client.get("/v1/homepage", params={"user_id": "member-0000"}).json()["rows"]
    assert len(rows) >= 5
    assert {"continue-watching", "popular"} <= {r["id"] for r in rows}
