"""The rules of public capture: redirects, origins, field targets, and the rate settings
and client IP the public endpoints use (``renkei.lib.ratelimit``)."""

from typing import Any

import pytest
from django.test import RequestFactory

from renkei.capture import rules
from renkei.capture.models import FormField
from renkei.lib.ratelimit import client_ip, configured_rate, rate_period_seconds

pytestmark = pytest.mark.usefixtures("english")

DOMAINS = ["example.co.jp", "例え.jp"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.co.jp/thanks", True),
        ("http://lp.example.co.jp:8080/thanks?a=1#x", True),
        ("https://EXAMPLE.co.jp/", True),
        ("https://例え.jp/ありがとう", True),
        ("https://xn--r8jz45g.jp/", True),
        ("https://example.co.jp.evil.example/", False),
        ("https://notexample.co.jp/", False),
        ("https://example.co.jp@evil.example/", False),
        ("https://user:pw@example.co.jp/", False),
        ("https://evil.example\\@example.co.jp/", False),
        ("https://evil.example\\.example.co.jp/", False),
        ("https://example.co.jp /", False),
        ("https://example.co.jp/\n", False),
        ("https://example.co.jp:99999/", False),
        ("ftp://example.co.jp/", False),
        ("javascript://example.co.jp/%0aalert(1)", False),
        ("//example.co.jp/", False),
        ("/thanks", False),
        ("", False),
        ("https://example.co.jp/" + "a" * 2000, False),
    ],
)
def test_redirects_go_only_to_allowed_domains(url: str, allowed: bool) -> None:
    assert rules.redirect_allowed(url, DOMAINS) is allowed


def test_no_redirect_is_allowed_without_domains() -> None:
    assert rules.redirect_allowed("https://example.co.jp/", []) is False


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://www.example.co.jp", True),
        ("https://www.example.co.jp/", True),
        ("HTTPS://WWW.EXAMPLE.CO.JP", True),
        ("http://www.example.co.jp", False),
        ("https://www.example.co.jp:8443", False),
        ("https://example.co.jp", False),
        ("null", False),
        ("", False),
    ],
)
def test_origins_match_exactly_as_browsers_send_them(origin: str, allowed: bool) -> None:
    assert rules.origin_allowed(origin, ["https://www.example.co.jp"]) is allowed


@pytest.mark.parametrize(
    ("value", "clean"),
    [
        ("https://www.example.co.jp/", "https://www.example.co.jp"),
        (" HTTP://Localhost:8000 ", "http://localhost:8000"),
    ],
)
def test_allowed_origins_are_stored_as_browsers_send_them(value: str, clean: str) -> None:
    assert rules.clean_origin(value) == clean


@pytest.mark.parametrize(
    "value", ["www.example.co.jp", "https://a.jp/path", "https://a.jp?q", "ftp://a.jp", "https://"]
)
def test_malformed_origins_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        rules.clean_origin(value)


@pytest.mark.parametrize(
    ("value", "clean"),
    [("Example.CO.JP", "example.co.jp"), ("*.example.jp", "example.jp"),
     ("https://lp.example.jp/x", "lp.example.jp"), ("ｅｘａｍｐｌｅ．ｊｐ", "example.jp")],
)  # fmt: skip
def test_redirect_domains_are_normalised(value: str, clean: str) -> None:
    assert rules.clean_redirect_domain(value) == clean


@pytest.mark.parametrize("value", ["localhost", "not a domain", "-a.jp", "a..jp"])
def test_malformed_redirect_domains_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        rules.clean_redirect_domain(value)


def test_answer_lengths_follow_the_column_they_fill() -> None:
    assert rules.answer_max_length("family_name", "text") == 100
    assert rules.answer_max_length("company_address", "textarea") == 300
    assert rules.answer_max_length("property:note", "textarea") == 5000
    assert rules.answer_max_length("property:note", "text") == 500


def test_choice_options_carry_labels_in_both_languages() -> None:
    field = FormField(options="a | エー | Ay\nb\n\n c | シー ")
    assert field.choices("ja") == [("a", "エー"), ("b", "b"), ("c", "シー")]
    assert field.choices("en") == [("a", "Ay"), ("b", "b"), ("c", "シー")]


# ---- rate settings and the client IP -------------------------------------------------------


def test_rates_come_from_settings_then_the_environment_then_the_default(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert configured_rate("RENKEI_TEST_RATE", "10/m") == "10/m"
    monkeypatch.setenv("RENKEI_TEST_RATE", "5/h")
    assert configured_rate("RENKEI_TEST_RATE", "10/m") == "5/h"
    settings.RENKEI_TEST_RATE = "7/10s"
    assert configured_rate("RENKEI_TEST_RATE", "10/m") == "7/10s"
    for bad in ("0/m", "ten/m", "10/week"):
        settings.RENKEI_TEST_RATE = bad
        assert configured_rate("RENKEI_TEST_RATE", "10/m") == "10/m"


def test_rate_windows_in_seconds() -> None:
    assert [rate_period_seconds(r) for r in ("10/m", "5/10s", "1/h", "x")] == [60, 10, 3600, 60]


def test_the_client_ip_is_read_where_the_rate_limits_read_it(settings: Any) -> None:
    factory = RequestFactory()
    assert client_ip(factory.get("/", REMOTE_ADDR="203.0.113.9")) == "203.0.113.9"
    assert client_ip(factory.get("/", REMOTE_ADDR="not-an-ip")) is None
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    assert client_ip(factory.get("/", HTTP_X_REAL_IP="2001:db8::1")) == "2001:db8::1"
