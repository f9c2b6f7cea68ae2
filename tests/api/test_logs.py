"""JSON log lines carry the request id of the request they belong to."""

from __future__ import annotations

import json
import logging

from artwork.api.logs import REQUEST_ID, JsonFormatter, log_config


def test_json_lines_with_the_request_id() -> None:
    record = logging.LogRecord("artwork.access", logging.INFO, "f.py", 1, "GET %s", ("/x",), None)
    record.status = 200
    token = REQUEST_ID.set("req-12345678")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "GET /x" and line["request_id"] == "req-12345678"
    assert line["status"] == 200 and line["level"] == "info"


def test_the_serve_config_logs_json_and_replaces_uvicorns_access_log() -> None:
    config = log_config()
    assert config["formatters"]["json"]["()"] is JsonFormatter
    assert config["handlers"]["stderr"]["formatter"] == "json"
    assert config["loggers"]["uvicorn.access"]["propagate"] is False
    # The service's own line per request only when asked for (ARTWORK_ACCESS_LOG).
    assert config["loggers"]["artwork.access"]["level"] == "WARNING"
    assert log_config(access_log=True)["loggers"]["artwork.access"]["level"] == "INFO"
