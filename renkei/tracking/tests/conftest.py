"""Helpers of the tracking tests: a batch as the script sends it, posted as a browser would."""

import uuid
from typing import Any

import orjson
import pytest
from django.test import Client

from renkei.capture.models import CaptureSettings

SITE = "https://www.example.co.jp"
COLLECT = "/t/collect"


def page_view(i: int, url: str = f"{SITE}/", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"ev{i}",
        "type": "page_view",
        "url": url,
        "title": f"ページ {i}",
        "referrer": "",
        "occurred_at": f"2026-04-01T10:00:{i:02d}+09:00",
        **extra,
    }


def post_batch(client: Client, body: Any, *, origin: str | None = SITE, **headers: Any) -> Any:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    if origin is not None:
        headers["HTTP_ORIGIN"] = origin
    return client.post(COLLECT, data=raw, content_type="text/plain;charset=UTF-8", **headers)


@pytest.fixture
def visitor_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def allowed_site(db: Any) -> CaptureSettings:
    """The customer's website may post tracking data."""
    settings = CaptureSettings.current()
    settings.allowed_origins = f"{SITE}\nhttps://shop.example.co.jp"
    settings.save()
    return settings
