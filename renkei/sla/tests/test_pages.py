"""The calendar and compliance pages: who may do what, field errors, and a compliance page
whose query count does not grow with reps, clocks or transitions."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from renkei.contacts.models import LifecycleTransition
from renkei.sla.models import BusinessCalendar, ClockKind, CompanyHoliday, SlaClock
from renkei.sla.selectors import calendar_get
from renkei.sla.services import calendar_update, company_holiday_add
from renkei.sla.tests.conftest import active_sla, contact

pytestmark = pytest.mark.django_db

WEEK = {
    "name": "営業カレンダー",
    "time_zone": "Asia/Tokyo",
    "public_holidays": "on",
    "mon": "9:00-12:00, 13:00-18:00",
    "tue": "9:00-18:00",
    "wed": "9:00-18:00",
    "thu": "9:00-18:00",
    "fri": "9:00-17:00",
    "sat": "",
    "sun": "",
}


def _client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_default_calendar_exists_after_migrate() -> None:
    calendar = calendar_get()
    assert calendar.time_zone == "Asia/Tokyo"
    assert calendar.hours["0"] == [[540, 720], [780, 1080]] and "5" not in calendar.hours
    assert {h.name for h in calendar.company_holidays.all()} == {"年末年始", "お盆"}


def test_a_manager_edits_working_hours(manager: User) -> None:
    client = _client(manager)
    assert client.get(reverse("sla:calendar_edit")).status_code == 200
    response = client.post(reverse("sla:calendar_edit"), WEEK)
    assert response.status_code == 302
    assert BusinessCalendar.objects.get().hours["4"] == [[540, 1020]]
    page = client.get(reverse("sla:calendar")).content.decode()
    assert "9:00-17:00" in page


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mon": "18:00-9:00"}, "mon"),
        ({"tue": "9:00-12:00, 11:00-13:00"}, "tue"),
        ({"wed": "nine"}, "wed"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        (dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ""), "mon"),
    ],
)
def test_bad_calendars_are_refused_by_field(
    manager: User, change: dict[str, str], field: str
) -> None:
    response = _client(manager).post(reverse("sla:calendar_edit"), {**WEEK, **change})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert BusinessCalendar.objects.get().hours["1"] == [[540, 720], [780, 1080]]


def test_a_calendar_with_no_working_time_is_refused(manager: User) -> None:
    with pytest.raises(ValidationError) as error:
        calendar_update(
            name="x", time_zone="Asia/Tokyo", hours={}, public_holidays=True, actor=manager
        )
    assert list(error.value.message_dict) == ["hours"]
    with pytest.raises(ValidationError) as error:  # days off that cover the whole year
        company_holiday_add(
            name="ずっと休み",
            start=date(2000, 1, 1),
            end=date(2000, 12, 31),
            every_year=True,
            actor=manager,
        )
    assert list(error.value.message_dict) == ["end"]


def test_company_holidays(manager: User, sales_rep: User) -> None:
    client = _client(manager)
    response = client.post(
        reverse("sla:holiday_add"),
        {"name": "創立記念日", "start": "2026-06-01", "end": "2026-06-01"},
    )
    assert response.status_code == 302
    holiday = CompanyHoliday.objects.get(name="創立記念日")
    assert not holiday.every_year
    response = client.post(
        reverse("sla:holiday_add"), {"name": "x", "start": "2026-06-02", "end": "2026-06-01"}
    )
    assert response.status_code == 400 and response.context["form"].errors["end"]
    response = client.post(reverse("sla:holiday_add"), {"name": "x", "start": "bad", "end": ""})
    assert response.status_code == 400 and set(response.context["form"].errors) == {"start", "end"}
    assert (
        _client(sales_rep).post(reverse("sla:holiday_delete", args=[holiday.pk])).status_code == 403
    )
    assert _client(sales_rep).get(reverse("sla:calendar")).status_code == 200
    assert _client(sales_rep).get(reverse("sla:calendar_edit")).status_code == 403
    assert client.post(reverse("sla:holiday_delete", args=[holiday.pk])).status_code == 302
    assert not CompanyHoliday.objects.filter(pk=holiday.pk).exists()


def _history(reps: list[User], leads: int, first: int = 0) -> None:
    now = timezone.now()
    clocks, transitions = [], []
    for n in range(leads):
        lead = contact(first + n)
        rep = reps[n % len(reps)]
        started = now - timedelta(days=n % 20)
        for kind in ClockKind.values:
            breached = started + timedelta(hours=3) if n % 3 == 0 else None
            met = None if breached else started + timedelta(hours=1)
            clocks.append(
                SlaClock(
                    assignment_id=n,
                    contact=lead,
                    user=rep,
                    kind=kind,
                    started_at=started,
                    due_at=started + timedelta(hours=2),
                    met_at=met,
                    breached_at=breached,
                )
            )
        transitions.append(
            LifecycleTransition(
                contact=lead, from_stage="lead", to_stage="mql", occurred_at=started
            )
        )
        transitions.append(
            LifecycleTransition(
                contact=lead,
                from_stage="mql",
                to_stage="sal" if n % 4 else "recycled",
                occurred_at=started,
            )
        )
    SlaClock.objects.bulk_create(clocks)
    LifecycleTransition.objects.bulk_create(transitions)


def _compliance_queries(client: Client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("sla:compliance"), {"period": "month"})
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode()


def test_compliance_shows_both_sides_with_a_constant_number_of_queries(
    marketer: User, manager: User, sales_rep: User, sales_rep2: User, admin_user: User
) -> None:
    from renkei.handoff.models import RepSettings, Team

    active_sla(marketer, manager)
    team = Team.objects.create(name="東日本営業部", manager=manager)
    RepSettings.objects.create(user=sales_rep, team=team)
    RepSettings.objects.create(user=sales_rep2, team=team)
    client = _client(manager)
    _history([sales_rep], 6)
    few, _page = _compliance_queries(client)
    LifecycleTransition.objects.all().delete()
    SlaClock.objects.all().delete()
    _history([sales_rep, sales_rep2, admin_user], 60, first=100)
    many, page = _compliance_queries(client)
    assert many == few
    assert "sales1" in page and "sales2" in page and "<svg" in page and "<polyline" in page
    weeks = client.get(reverse("sla:compliance")).context["weeks"]
    assert len(weeks) == 12
    assert sum(w.delivered for w in weeks) == 60  # every MQL of the last 20 days, once
    assert sum(w.on_time + w.breached for w in weeks) == 60 * 3
    response = client.get(reverse("sla:compliance"), {"period": "week"})
    report = response.context
    assert (
        report["marketing"].delivered == report["marketing"].accepted + report["marketing"].rejected
    )
    rows = {r.name: r for r in client.get(reverse("sla:compliance")).context["reps"]}
    first_touch = rows["sales1"].kinds[ClockKind.FIRST_TOUCH]
    assert first_touch.started == first_touch.on_time + first_touch.breached
    assert first_touch.share == round(100 * first_touch.on_time / first_touch.started)
    teams = {t.name: t for t in client.get(reverse("sla:compliance")).context["teams"]}
    assert set(teams) == {"東日本営業部", ""}  # the admin has no team
    east = teams["東日本営業部"].kinds[ClockKind.DECISION]
    assert east.started == sum(
        rows[name].kinds[ClockKind.DECISION].started for name in ("sales1", "sales2")
    )


def test_compliance_access_and_bad_parameters(
    manager: User, marketer: User, sales_rep: User, viewer: User
) -> None:
    assert _client(marketer).get(reverse("sla:compliance")).status_code == 200
    assert _client(sales_rep).get(reverse("sla:compliance")).status_code == 403
    assert _client(viewer).get(reverse("sla:compliance")).status_code == 403
    client = _client(manager)
    assert client.get(reverse("sla:compliance"), {"period": "decade"}).status_code == 400
    assert client.get(reverse("sla:compliance"), {"offset": "x"}).status_code == 400
    assert client.get(reverse("sla:compliance"), {"offset": "-1"}).status_code == 400
    assert client.get(reverse("sla:compliance"), {"offset": "1"}).status_code == 200


def test_japanese_pages(manager: User) -> None:
    from django.utils import translation

    with translation.override("ja"):
        client = _client(manager)
        client.cookies["django_language"] = "ja"
        page = client.get(reverse("sla:compliance"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "SLA遵守状況" in page
