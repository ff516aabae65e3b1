"""Small builders for the deals tests."""

from typing import Any

from renkei.contacts.models import Contact
from renkei.contacts.services import contact_upsert
from renkei.deals.models import Deal, Pipeline, PipelineStage
from renkei.deals.services import deal_create, pipeline_default


def stage(name: str, pipeline: Pipeline | None = None) -> PipelineStage:
    return PipelineStage.objects.get(pipeline=pipeline or pipeline_default(), name=name)


def contact(email: str = "taro@sakura.co.jp", **extra: Any) -> Contact:
    extra.setdefault("company_name", "株式会社さくら工業")
    found, _ = contact_upsert(email=email, actor=None, family_name="山田", **extra)
    return found


def deal(owner: Any, **extra: Any) -> Deal:
    extra.setdefault("name", "さくら工業 — 基幹システム")
    extra.setdefault("amount", 1_200_000)
    return deal_create(owner=owner, actor=owner, **extra)
