"""The bench's pure helpers: request bodies, floor rows, percentiles (no timings)."""

from datetime import UTC, datetime

import orjson

from bench._common import Population, batch_bodies, floor_rows, make_events, percentile

POPULATION = Population(
    contacts=[(1, "taro@example.jp"), (2, "hanako@example.jp")],
    campaign_ids=[7],
    visitor_keys=["v-1", "v-2"],
)
END = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def test_events_are_deterministic_and_mix_every_kind_of_identity() -> None:
    events = make_events(500, POPULATION, seed=3, end=END)
    assert events == make_events(500, POPULATION, seed=3, end=END)
    assert len({e["client_event_id"] for e in events}) == 500
    kinds = {tuple(sorted(e["identity"])) for e in events}
    assert kinds == {("email",), ("contact_id",), ("visitor_id",), ("email", "visitor_id")}
    assert all(e["occurred_at"].endswith("+09:00") for e in events)


def test_bodies_are_batches_of_the_requested_size() -> None:
    events = make_events(2500, POPULATION, seed=1, end=END)
    bodies = batch_bodies(events, 1000)
    assert [len(orjson.loads(b)["events"]) for b in bodies] == [1000, 1000, 500]


def test_floor_rows_are_what_the_server_stores() -> None:
    events = make_events(200, POPULATION, seed=2, end=END)
    rows = floor_rows(events, POPULATION, vendor="sqlite", received=END)
    for event, row in zip(events, rows, strict=True):
        identity = event["identity"]
        assert row[0] == event["client_event_id"]
        if "email" in identity:
            assert row[4] == {"taro@example.jp": 1, "hanako@example.jp": 2}[identity["email"]]
        assert (row[5] is not None) == ("visitor_id" in identity)
        utc = datetime.fromisoformat(event["occurred_at"]).astimezone(UTC)
        assert row[2] == str(utc.replace(tzinfo=None))
        assert orjson.loads(row[7]) == event["properties"]


def test_percentile() -> None:
    assert percentile([], 0.5) == 0.0
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([1.0, 2.0], 0.95) == 2.0
