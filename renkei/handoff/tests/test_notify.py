"""Notification of hand-offs and breaches: real email through aiosmtpd on loopback, real
webhooks to a loopback HTTP server, retries with back-off, and the address guard."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from renkei.handoff.models import Assignment, DeliveryStatus, RepSettings, Team, WebhookDelivery
from renkei.handoff.notify import webhook_url_check
from renkei.handoff.receivers import on_sla_breached
from renkei.handoff.routing import mqls_route
from renkei.handoff.tasks import notify_assignments, notify_breach, webhook_deliver
from renkei.handoff.tests.factories import company, mql


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        message["X-RcptTo"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[_Inbox]:
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd 1.4 cannot listen on port 0 itself
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


class _Hook:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0


@pytest.fixture
def hook(settings: Any) -> Iterator[tuple[_Hook, str]]:
    state = _Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.bodies.append(json.loads(self.rfile.read(length)))
            time.sleep(state.delay)
            try:
                self.send_response(state.status)
                self.end_headers()
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.RENKEI_WEBHOOK_ALLOW_PRIVATE = True
    settings.RENKEI_WEBHOOK_TIMEOUT = 0.5
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _route_one(rep: User) -> Assignment:
    lead = mql(company(name="東京精機"), title="情報システム部長")
    mqls_route([lead.pk])
    return Assignment.objects.get(contact=lead)


def test_rep_gets_an_email_and_a_webhook(
    db: Any, sales_rep: User, smtp: _Inbox, hook: tuple[_Hook, str]
) -> None:
    state, url = hook
    team = Team.objects.create(name="東日本", webhook_url=url)
    RepSettings.objects.create(user=sales_rep, team=team)
    a = _route_one(sales_rep)
    assert notify_assignments.call([a.pk]) == 1
    [mail] = smtp.messages
    assert mail["X-RcptTo"] == "sales1@example.jp"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "東京精機" in body and "/contacts/" in body
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver.call(delivery.pk) == "sent"
    [payload] = state.bodies
    assert "東京精機" in payload["text"] and payload["blocks"][0]["type"] == "section"
    # Scheduling the same hand-off again does not announce it twice.
    notify_assignments.call([a.pk])
    assert WebhookDelivery.objects.count() == 1


def test_a_failing_webhook_retries_with_back_off_and_gives_up(
    db: Any, sales_rep: User, hook: tuple[_Hook, str]
) -> None:
    state, url = hook
    state.status = 500
    RepSettings.objects.create(user=sales_rep, webhook_url=url)
    from renkei.handoff.notify import webhooks_schedule

    [pk] = webhooks_schedule([("k1", url, {"text": "x"})])
    before = timezone.now()
    assert webhook_deliver.call(pk) == "retry"
    retry = DBTaskResult.objects.filter(task_path="renkei.handoff.tasks.webhook_deliver").latest(
        "enqueued_at"
    )
    assert retry.run_after is not None and (retry.run_after - before).total_seconds() >= 29
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert delivery.attempts == 1 and delivery.last_error == "HTTP 500"
    for _ in range(4):
        result = webhook_deliver.call(pk)
    assert result == "failed"
    assert WebhookDelivery.objects.get(pk=pk).status == DeliveryStatus.FAILED


def test_a_slow_webhook_times_out_without_blocking_the_handoff(
    db: Any, sales_rep: User, hook: tuple[_Hook, str]
) -> None:
    state, url = hook
    state.delay = 2
    RepSettings.objects.create(user=sales_rep, webhook_url=url)
    a = _route_one(sales_rep)
    assert a.user == sales_rep  # the assignment exists before any webhook is tried
    notify_assignments.call([a.pk])
    started = time.monotonic()
    assert webhook_deliver.call(WebhookDelivery.objects.get().pk) == "retry"
    assert time.monotonic() - started < 1.5
    assert "timed out" in WebhookDelivery.objects.get().last_error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "ftp://example.com/x",
        "not a url",
    ],
)
def test_webhooks_refuse_local_and_private_targets(settings: Any, url: str) -> None:
    settings.RENKEI_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError):
        webhook_url_check(url)


def test_a_private_target_is_refused_at_send_time_too(
    db: Any, settings: Any, hook: tuple[_Hook, str]
) -> None:
    state, url = hook
    from renkei.handoff.notify import webhooks_schedule

    [pk] = webhooks_schedule([("k2", url, {"text": "x"})])
    settings.RENKEI_WEBHOOK_ALLOW_PRIVATE = False
    assert webhook_deliver.call(pk) == "retry"
    assert not state.bodies
    assert "127.0.0.1" in WebhookDelivery.objects.get(pk=pk).last_error


def test_a_breach_notifies_the_rep_and_escalates_to_the_team_manager(
    db: Any, sales_rep: User, manager: User, smtp: _Inbox
) -> None:
    team = Team.objects.create(name="西日本", manager=manager)
    RepSettings.objects.create(user=sales_rep, team=team)
    a = _route_one(sales_rep)
    due = timezone.now()
    on_sla_breached(
        sender=None, breach_id=7, clock_id=1, contact_id=a.contact_id, user_id=sales_rep.pk,
        kind="first_touch", due_at=due,
    )  # fmt: skip
    task = DBTaskResult.objects.get(task_path="renkei.handoff.tasks.notify_breach")
    assert notify_breach.call(*task.args_kwargs["args"]) == 2
    recipients = sorted(m["X-RcptTo"] for m in smtp.messages)
    assert recipients == ["manager@example.jp", "sales1@example.jp"]
    assert isinstance(datetime.fromisoformat(task.args_kwargs["args"][4]), datetime)
