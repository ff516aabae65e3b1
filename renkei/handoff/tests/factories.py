"""Test helpers for the hand-off: companies, MQL contacts and reps, written directly."""

import itertools
from typing import Any

from django.contrib.auth.models import User

from conftest import _user
from renkei.accounts.roles import SALES
from renkei.contacts.models import Company, Contact, LifecycleStage
from renkei.handoff.models import RepSettings

_n = itertools.count(1)


def company(**fields: Any) -> Company:
    name = fields.pop("name", f"会社{next(_n)}")
    return Company.objects.create(name=name, name_normalized=name, **fields)


def mql(company: Company | None = None, **fields: Any) -> Contact:
    email = f"mql{next(_n)}@example.jp"
    fields.setdefault("lifecycle_stage", LifecycleStage.MQL)
    return Contact.objects.create(
        email=email, email_normalized=email, company=company, family_name="山田", **fields
    )


def rep(name: str, **settings: Any) -> User:
    user = _user(name, SALES, email=f"{name}@example.jp")
    if settings:
        RepSettings.objects.create(user=user, **settings)
    return user
