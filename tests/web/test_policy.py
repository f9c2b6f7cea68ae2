"""The policy page: learning curve, off-policy evaluation, exploration and reward lag."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from artwork.bandit.ope.evaluate import evaluate, resolved_events
from artwork.bandit.ope.specs import parse_target
from artwork.testing.keys import api_client
from artwork.web.queries import OPE_POLICIES
from artwork.wiring import Services


def test_policy_page_draws_four_charts(pages: TestClient) -> None:
    html = pages.get("/policy").text
    charts = re.findall(r'<svg class="chart (\w+)"', html)
    assert charts == ["line", "interval", "line", "histogram"], charts
    assert "no data yet" not in html
    assert "Exploration rate" in html and "wait window" in html


def test_policy_page_reports_the_numbers_of_artwork_evaluate(
    pages: TestClient, page_services: Services
) -> None:
    html = pages.get("/policy").text
    settings = page_services.settings
    log = page_services.bandit.log
    events, _ = resolved_events(log, settings, log.now())
    results = evaluate(events, [parse_target(s, settings) for s in OPE_POLICIES])
    for result in results:
        snips = result.estimates["snips"]
        assert f"{snips.value:.4f} [{snips.low:.4f}, {snips.high:.4f}]" in html, result.name


def test_policy_page_with_an_empty_log(services: Services) -> None:
    with api_client(services, "admin") as client:
        html = client.get("/policy").text
    assert "no resolved decisions yet" in html
    assert html.count('<svg class="chart empty"') == 4 and "no rewards yet" in html
