"""The event columns: a refresh after any mix of new events, stitched visitors, merges and
erasures holds exactly what a cold build from the database holds, in the same order."""

import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renkei.contacts.models import Contact
from renkei.contacts.services import contact_merge
from renkei.events.models import Event, Visitor
from renkei.events.services import EventInput, events_record
from renkei.scoring import columns
from renkei.scoring.columns import EventColumns, event_columns_load, event_columns_refresh
from renkei.scoring.tests.factories import contact

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
_serial = iter(range(10**9))


def _record(slot: Any, kind: str, minutes: int, url: str, *, visitor: str = "") -> None:
    item = EventInput(
        index=0,
        client_event_id=f"c-{next(_serial)}",
        type=kind,
        occurred_at=NOW - timedelta(minutes=minutes),
        properties={"url": url} if url else {},
        contact_id=slot.pk if slot is not None else None,
        visitor_key=visitor,
    )
    result = events_record(items=[item], actor=None)
    assert result.accepted == 1, result.rejected


def _decoded(cols: EventColumns) -> list[tuple[Any, ...]]:
    codes, values = cols.property_codes("url")
    return list(
        zip(
            (cols.contact_ids[cols.ev_contact]).tolist(),
            cols.ev_at.tolist(),
            cols.ev_id.tolist(),
            [cols.types[t] for t in cols.ev_type],
            [values[c] if c >= 0 else None for c in codes],
            strict=True,
        )
    )


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("event"),
            st.integers(0, 3),
            st.sampled_from(["page_view", "form_submit"]),
            st.integers(0, 3000),
            st.sampled_from(["", "/a", "/pricing"]),
        ),
        st.tuples(st.just("anonymous"), st.integers(0, 1), st.integers(0, 3000)),
        st.tuples(st.just("identify"), st.integers(0, 1), st.integers(0, 3)),
        st.tuples(st.just("merge"), st.integers(0, 3), st.integers(0, 3)),
        st.tuples(st.just("erase"), st.integers(0, 3)),
        st.tuples(st.just("refresh")),
    ),
    max_size=14,
)


def refresh() -> None:
    """A refresh, then as if it had happened an hour ago: what it read is outside the
    margin of the next one, which must find moved events by their new owners alone."""
    event_columns_refresh()
    Event.objects.update(received_at=timezone.now() - timedelta(hours=1))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_a_refresh_holds_what_a_cold_build_holds(db: Any, ops: list[tuple[Any, ...]]) -> None:
    Event.objects.all().delete()
    Visitor.objects.all().delete()
    Contact.objects.all().delete()
    shutil.rmtree(django_settings.RENKEI_BACKTEST_DIR, ignore_errors=True)
    columns._loaded.clear()
    people: list[Contact | None] = [contact(n) for n in range(4)]
    refresh()  # the first build
    for op in ops:
        if op[0] == "event" and people[op[1]] is not None:
            _record(people[op[1]], op[2], op[3], op[4])
        elif op[0] == "anonymous":
            _record(None, "page_view", op[2], "/anon", visitor=f"v{op[1]}")
        elif op[0] == "identify" and people[op[2]] is not None:
            _record(people[op[2]], "form_submit", 0, "", visitor=f"v{op[1]}")
        elif op[0] == "merge":
            winner, loser = people[op[1]], people[op[2]]
            if winner is not None and loser is not None and winner.pk != loser.pk:
                contact_merge(winner=winner, loser=loser, actor=None)
                people[op[2]] = None
        elif op[0] == "erase" and (gone := people[op[1]]) is not None:
            gone.delete()
            people[op[1]] = None
        elif op[0] == "refresh":
            refresh()
    refreshed = _decoded(event_columns_refresh())
    rebuilt = _decoded(event_columns_refresh(cold=True))
    assert refreshed == rebuilt
    stored = Event.objects.filter(contact__isnull=False).count()
    assert len(rebuilt) == stored


def test_old_columns_are_rebuilt_cold_and_missing_properties_force_a_build(db: Any) -> None:
    lead = contact(1)
    _record(lead, "page_view", 5, "/a")
    first = event_columns_refresh()
    refreshed = event_columns_refresh()
    assert refreshed.built_at == first.built_at  # a refresh keeps the cold build's time
    assert "campaign_code" not in refreshed.keys
    with_key = event_columns_refresh(extra_keys=["campaign_code"])
    assert "campaign_code" in with_key.keys and with_key.built_at > first.built_at
    # A week after the cold build, a refresh rebuilds cold.
    meta = with_key.directory / "meta.json"
    stale = (timezone.now() - columns.COLD_EVERY - timedelta(hours=1)).isoformat()
    meta.write_text(meta.read_text().replace(with_key.built_at.isoformat(), stale))
    columns._loaded.clear()
    assert event_columns_load().built_at.isoformat() == stale
    assert event_columns_refresh().built_at > with_key.built_at


def test_a_contact_erased_during_a_full_rescore_does_not_fail_it(db: Any, monkeypatch: Any) -> None:
    from renkei.contacts.models import ContactScore
    from renkei.scoring import services
    from renkei.scoring.services import engagement_rescore_all
    from renkei.scoring.tests.factories import rule

    rule(points=5)
    kept, erased = contact(1), contact(2)
    _record(kept, "page_view", 5, "/a")
    _record(erased, "page_view", 5, "/a")
    real_refresh = services.event_columns_refresh

    def refresh_then_erase(**kwargs: Any) -> EventColumns:
        read = real_refresh(**kwargs)
        erased.delete()  # between reading the columns and the swap
        return read

    monkeypatch.setattr(services, "event_columns_refresh", refresh_then_erase)
    engagement_rescore_all(now=NOW)
    assert dict(ContactScore.objects.values_list("contact_id", "score")) == {kept.pk: 5}
