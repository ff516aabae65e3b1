"""Property: deciding contact by contact (the derived-data step) and all at once (the full
evaluation) qualify and flag the same contacts, whatever the data and the policy."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renkei.contacts.models import Contact
from renkei.qualification.models import ContactQualification
from renkei.qualification.services import (
    contacts_qualify,
    qualification_evaluate_all,
    qualification_policy_update,
)
from renkei.qualification.tests.factories import events, lead, persona, webinar_rule
from renkei.scoring.services import contacts_rescore

SCORED_AT = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)

people = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.sampled_from(["部長", "担当"]),
            "stage": st.sampled_from(["subscriber", "lead", "recycled", "mql", "sal"]),
            "webinars": st.integers(0, 3),
            "webinar_age": st.integers(0, 60),
            "hand_raise_age": st.none() | st.integers(0, 120),
        }
    ),
    min_size=1,
    max_size=8,
)
policies = st.fixed_dictionaries(
    {
        "fit_threshold": st.sampled_from([0, 60, 80, 100]),
        "engagement_threshold": st.sampled_from([0, 20, 40, 90]),
        "hand_raise_window_days": st.sampled_from([30, 90]),
    }
)


def _outcome() -> tuple[set[int], set[int]]:
    mqls = set(Contact.objects.filter(lifecycle_stage="mql").values_list("id", flat=True))
    flagged = set(
        ContactQualification.objects.filter(below_policy_since__isnull=False).values_list(
            "contact_id", flat=True
        )
    )
    return mqls, flagged


def _decide(ids: list[int], now: datetime, *, all_at_once: bool) -> tuple[set[int], set[int]]:
    with transaction.atomic():
        if all_at_once:
            qualification_evaluate_all(now=now)
        else:
            for pk in ids:
                contacts_qualify(contact_ids=[pk], now=now)
        outcome = _outcome()
        transaction.set_rollback(True)
    return outcome


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=people, policy=policies, days_later=st.integers(0, 45))
def test_one_by_one_and_all_at_once_decide_alike(
    marketer: User,
    sales_rep: User,
    people: list[dict[str, Any]],
    policy: dict[str, int],
    days_later: int,
) -> None:
    now = SCORED_AT + days_later * DAY
    with transaction.atomic():
        persona(marketer, sales_rep)
        webinar_rule(points=25, half_life_days=20)
        qualification_policy_update(actor=None, **policy)
        ids = []
        for n, person in enumerate(people):
            contact = lead(n, title=person["title"], lifecycle_stage=person["stage"])
            webinar_at = SCORED_AT - person["webinar_age"] * DAY
            events(contact, *[("webinar_attended", webinar_at)] * person["webinars"])
            if person["hand_raise_age"] is not None:
                events(contact, ("demo_request", now - person["hand_raise_age"] * DAY))
            ids.append(contact.pk)
        contacts_rescore(contact_ids=ids, now=SCORED_AT)
        one_by_one = _decide(ids, now, all_at_once=False)
        all_at_once = _decide(ids, now, all_at_once=True)
        transaction.set_rollback(True)
    assert one_by_one == all_at_once
