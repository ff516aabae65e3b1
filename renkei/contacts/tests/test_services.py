"""Contacts services: dedupe, Japanese normalisation, stages, owners, merge, erase, audit."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from renkei.accounts.models import AuditEntry
from renkei.contacts import services
from renkei.contacts.models import Company, Contact, LifecycleStage, LifecycleTransition
from renkei.contacts.services import (
    Conflict,
    ReferenceNotFound,
    company_delete,
    company_update,
    company_upsert,
    contact_assign_owner,
    contact_change_stage,
    contact_delete,
    contact_edit,
    contact_merge,
    contact_update,
    contact_upsert,
)
from renkei.events.models import Event, Visitor
from renkei.events.services import event_record_one

pytestmark = pytest.mark.django_db


def _audit(contact_id: int, action: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type="contact", object_id=contact_id, action=action)
    )


# ---- contact dedupe and normalisation --------------------------------------------------


def test_upsert_dedupes_full_width_and_upper_case_email(marketer: Any) -> None:
    first, created = contact_upsert(email="taro.yamada@example.co.jp", actor=marketer)
    again, created_again = contact_upsert(
        email="ＴＡＲＯ．Ｙａｍａｄａ＠ＥＸＡＭＰＬＥ．ｃｏ．ｊｐ", actor=marketer
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Contact.objects.count() == 1


def test_upsert_fills_in_without_blanking_and_merges_properties(marketer: Any) -> None:
    contact, _ = contact_upsert(
        email="a@example.jp", actor=marketer, family_name="山田", properties={"a": 1}
    )
    contact_upsert(
        email="A@example.jp", actor=marketer, family_name="", title="部長", properties={"b": 2}
    )
    contact.refresh_from_db()
    assert (contact.family_name, contact.title) == ("山田", "部長")
    assert contact.properties == {"a": 1, "b": 2}


def test_phone_numbers_are_stored_in_e164(marketer: Any) -> None:
    landline, _ = contact_upsert(email="a@example.jp", actor=marketer, phone="03-1234-5678")
    mobile, _ = contact_upsert(
        email="b@example.jp", actor=marketer, phone="０９０－１２３４－５６７８"
    )
    international, _ = contact_upsert(email="c@example.jp", actor=marketer, phone="+81 6 1234 5678")
    assert landline.phone == "+81312345678"
    assert mobile.phone == "+819012345678"
    assert international.phone == "+81612345678"


def test_impossible_phone_number_is_refused_naming_phone(marketer: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        contact_upsert(email="a@example.jp", actor=marketer, phone="12")
    assert "phone" in exc.value.message_dict


def test_kana_is_stored_as_full_width_katakana(marketer: Any) -> None:
    contact, _ = contact_upsert(
        email="a@example.jp", actor=marketer, family_name_kana="やまだ", given_name_kana="ﾀﾛｳ"
    )
    assert (contact.family_name_kana, contact.given_name_kana) == ("ヤマダ", "タロウ")
    assert contact.full_name_kana == "ヤマダ タロウ"


def test_short_prefecture_becomes_full_name_and_unknown_is_refused(marketer: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer, prefecture="大阪")
    assert contact.prefecture == "大阪府"
    with pytest.raises(ValidationError) as exc:
        contact_upsert(email="b@example.jp", actor=marketer, prefecture="ムー大陸")
    assert "prefecture" in exc.value.message_dict


def test_every_bad_field_is_named_at_once(marketer: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        contact_upsert(
            email="not-an-email", actor=marketer, family_name="x" * 101, phone="abc", shoe_size=9
        )
    assert set(exc.value.message_dict) == {"email", "family_name", "phone", "shoe_size"}


def test_error_messages_are_japanese_in_japanese_and_unchanged_in_english(
    marketer: Any,
) -> None:
    def errors(language: str) -> dict[str, list[str]]:
        with translation.override(language), pytest.raises(ValidationError) as exc:
            contact_upsert(email="nope", actor=marketer, family_name="x" * 101, title="x" * 201)
        return exc.value.message_dict

    assert errors("en") == {
        "email": ["not a valid email address: 'nope'"],
        "family_name": ["at most 100 characters"],
        "title": ["at most 200 characters"],
    }
    assert errors("ja") == {
        "email": ["メールアドレスとして正しくありません：'nope'"],
        "family_name": ["100文字以内にしてください"],
        "title": ["200文字以内にしてください"],
    }
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer, lifecycle_stage="mql")
    with translation.override("ja"), pytest.raises(ValidationError) as exc:
        contact_change_stage(contact=contact, to_stage="lead", actor=marketer)
    assert exc.value.message_dict == {"reason": ["mql から lead への変更には理由が必要です"]}


def test_text_loses_nul_characters_that_postgresql_refuses(marketer: Any) -> None:
    contact, _ = contact_upsert(
        email="a@example.jp",
        actor=marketer,
        title="部\x00長",
        properties={"memo\x00": ["a\x00b", {"c": "\x00"}]},
    )
    contact.refresh_from_db()
    assert contact.title == "部長"
    assert contact.properties == {"memo": ["ab", {"c": ""}]}


def test_non_finite_numbers_in_properties_are_refused(marketer: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        contact_upsert(email="a@example.jp", actor=marketer, properties={"x": float("nan")})
    assert "properties" in exc.value.message_dict


def test_company_name_finds_or_creates_the_company(marketer: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer, company_name="株式会社ＡＢＣ")
    other, _ = contact_upsert(email="b@example.jp", actor=marketer, company_name="ABC㈱")
    assert contact.company_id == other.company_id
    assert Company.objects.count() == 1


def test_unknown_company_id_is_a_missing_reference(marketer: Any) -> None:
    with pytest.raises(ReferenceNotFound) as exc:
        contact_upsert(email="a@example.jp", actor=marketer, company_id=999_999)
    assert "company_id" in exc.value.message_dict


def test_email_taken_by_another_contact_is_a_conflict(marketer: Any) -> None:
    contact_upsert(email="a@example.jp", actor=marketer)
    other, _ = contact_upsert(email="b@example.jp", actor=marketer)
    with pytest.raises(Conflict) as exc:
        contact_update(contact=other, actor=marketer, email="A@EXAMPLE.JP")
    assert "email" in exc.value.message_dict


def test_search_text_follows_company_rename_and_deletion(marketer: Any, manager: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer, company_name="旧商事")
    assert contact.company is not None
    company_update(company=contact.company, actor=marketer, name="新物産")
    contact.refresh_from_db()
    assert "新物産" in contact.search_text and "旧商事" not in contact.search_text
    company_delete(company=Company.objects.get(), actor=manager)
    contact.refresh_from_db()
    assert contact.company_id is None and "新物産" not in contact.search_text


# ---- company dedupe --------------------------------------------------------------------


def test_company_is_found_by_domain_before_name(marketer: Any) -> None:
    company, created = company_upsert(actor=marketer, name="株式会社ABC", domain="abc.co.jp")
    same, created_again = company_upsert(
        actor=marketer, name="エービーシー", domain="https://www.ABC.co.jp/about"
    )
    assert (created, created_again) == (True, False)
    assert same.pk == company.pk


@pytest.mark.parametrize(
    "spelling",
    ["株式会社ABC", "ABC株式会社", "(株)ABC", "ABC㈱", "ＡＢＣ（株）", "abc 株式会社", "A B C"],
)
def test_company_is_found_by_normalised_name(marketer: Any, spelling: str) -> None:
    company, _ = company_upsert(actor=marketer, name="株式会社 ABC")
    same, created = company_upsert(actor=marketer, name=spelling)
    assert (same.pk, created) == (company.pk, False)
    same.refresh_from_db()
    assert same.name == "株式会社 ABC"  # the same name in another spelling does not rename it


def test_same_name_with_another_domain_is_another_company(marketer: Any) -> None:
    tokyo, _ = company_upsert(actor=marketer, name="山田商事", domain="yamada-tokyo.jp")
    osaka, created = company_upsert(actor=marketer, name="山田商事", domain="yamada-osaka.jp")
    assert created and osaka.pk != tokyo.pk


def test_domain_taken_by_another_company_is_a_conflict(marketer: Any) -> None:
    company_upsert(actor=marketer, name="A", domain="a.jp")
    other, _ = company_upsert(actor=marketer, name="B", domain="b.jp")
    with pytest.raises(Conflict):
        company_update(company=other, actor=marketer, domain="A.JP")


# ---- lifecycle stages ------------------------------------------------------------------


def test_stage_change_records_transition_with_actor_and_reason(marketer: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer)
    transition = contact_change_stage(
        contact=contact, to_stage=LifecycleStage.MQL, actor=marketer, reason="score 80"
    )
    assert transition is not None
    assert (transition.from_stage, transition.to_stage) == ("lead", "mql")
    assert (transition.actor, transition.reason) == (marketer, "score 80")
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "mql"
    assert list(contact.transitions.values_list("to_stage", flat=True)) == ["mql", "lead"]


def test_moving_backwards_without_reason_is_refused(sales_rep: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=sales_rep, lifecycle_stage="sql")
    with pytest.raises(ValidationError) as exc:
        contact_change_stage(contact=contact, to_stage="lead", actor=sales_rep)
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError):
        contact_change_stage(contact=contact, to_stage="disqualified", actor=sales_rep)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "sql"
    contact_change_stage(contact=contact, to_stage="lead", actor=sales_rep, reason="no budget")
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "lead"


def test_unknown_stage_is_refused_naming_lifecycle_stage(marketer: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer)
    with pytest.raises(ValidationError) as exc:
        contact_change_stage(contact=contact, to_stage="hot", actor=marketer)
    assert "lifecycle_stage" in exc.value.message_dict


def test_change_decided_on_a_stale_stage_is_refused(marketer: Any, sales_rep: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer)
    # Both users see "lead"; the marketer moves it first.
    contact_change_stage(contact=contact, to_stage="mql", actor=marketer, expected_stage="lead")
    with pytest.raises(Conflict):
        contact_change_stage(
            contact=contact, to_stage="sal", actor=sales_rep, expected_stage="lead"
        )
    assert LifecycleTransition.objects.filter(contact=contact, to_stage="sal").count() == 0


def test_concurrent_change_between_read_and_write_is_refused(
    marketer: Any, sales_rep: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer)
    real_check = services.lifecycle.stage_is_backward

    def another_writer_moves_first(from_stage: str, to_stage: str) -> bool:
        Contact.objects.filter(pk=contact.pk).update(lifecycle_stage="disqualified")
        return real_check(from_stage, to_stage)

    # The check contact_change_stage calls between its read and its conditional write.
    monkeypatch.setattr(services.lifecycle, "stage_is_backward", another_writer_moves_first)
    with pytest.raises(Conflict):
        contact_change_stage(contact=contact, to_stage="mql", actor=sales_rep)
    assert not LifecycleTransition.objects.filter(contact=contact, to_stage="mql").exists()


# ---- audit -----------------------------------------------------------------------------


def test_stage_owner_and_personal_data_changes_are_audited_with_actor_and_time(
    marketer: Any, manager: Any, sales_rep: Any
) -> None:
    before = timezone.now() - timedelta(seconds=1)
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer, family_name="山田")
    contact_update(contact=contact, actor=marketer, family_name="佐藤", phone="03-1234-5678")
    contact_change_stage(contact=contact, to_stage="mql", actor=marketer)
    contact_assign_owner(contact=contact, owner=sales_rep, actor=manager)

    created = _audit(contact.pk, "contact.create")[0]
    assert created.changes["family_name"] == [None, "山田"]
    update = _audit(contact.pk, "contact.update")[0]
    assert update.changes == {
        "family_name": ["山田", "佐藤"],
        "phone": ["", "+81312345678"],
    }
    assert update.actor == marketer and update.created_at >= before
    stage = _audit(contact.pk, "contact.stage")[0]
    assert (stage.changes, stage.actor) == ({"lifecycle_stage": ["lead", "mql"]}, marketer)
    owner = _audit(contact.pk, "contact.owner")[0]
    assert (owner.changes, owner.actor, owner.actor_label) == (
        {"owner_id": [None, sales_rep.pk]},
        manager,
        "manager",
    )


def test_unchanged_values_write_no_audit_entry(marketer: Any, sales_rep: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer, family_name="山田")
    contact_update(contact=contact, actor=marketer, family_name="山田")
    contact_assign_owner(contact=contact, owner=None, actor=marketer)
    assert _audit(contact.pk, "contact.update") == []
    assert _audit(contact.pk, "contact.owner") == []


def test_edit_is_all_or_nothing(marketer: Any, sales_rep: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer, lifecycle_stage="sql")
    with pytest.raises(ValidationError) as exc:
        contact_edit(
            contact=contact, actor=marketer, title="部長", owner=sales_rep, lifecycle_stage="lead"
        )
    assert "reason" in exc.value.message_dict
    contact.refresh_from_db()
    assert (contact.title, contact.owner_id, contact.lifecycle_stage) == ("", None, "sql")


# ---- merge and erase -------------------------------------------------------------------


def test_merge_keeps_every_event_and_transition_of_both_contacts(
    marketer: Any, sales_rep: Any
) -> None:
    winner, _ = contact_upsert(email="taro@example.jp", actor=marketer, family_name="山田")
    loser, _ = contact_upsert(
        email="t.yamada@example.jp", actor=marketer, title="部長", phone="03-1234-5678"
    )
    contact_change_stage(contact=loser, to_stage="mql", actor=marketer)
    contact_assign_owner(contact=loser, owner=sales_rep, actor=marketer)
    events = [
        event_record_one(contact=winner, type="page_view"),
        event_record_one(contact=loser, type="form_submit"),
        event_record_one(contact=loser, type="webinar_attended"),
    ]
    Visitor.objects.create(key="v-1", contact=loser)
    transitions = set(
        LifecycleTransition.objects.filter(contact__in=[winner, loser]).values_list("pk", flat=True)
    )

    merged = contact_merge(winner=winner, loser=loser, actor=marketer)

    assert not Contact.objects.filter(pk=loser.pk).exists()
    assert set(merged.events.values_list("pk", flat=True)) == {e.pk for e in events}
    assert transitions <= set(merged.transitions.values_list("pk", flat=True))
    assert Visitor.objects.get(key="v-1").contact_id == merged.pk
    merged.refresh_from_db()
    assert (merged.family_name, merged.title, merged.phone) == ("山田", "部長", "+81312345678")
    assert merged.owner_id == sales_rep.pk
    assert merged.lifecycle_stage == "mql"  # the loser was further down the funnel
    assert merged.email == "taro@example.jp"
    entry = _audit(merged.pk, "contact.merge")[0]
    assert entry.changes["merged_contact"] == [loser.pk, None]


def test_contact_cannot_be_merged_into_itself(marketer: Any) -> None:
    contact, _ = contact_upsert(email="a@example.jp", actor=marketer)
    with pytest.raises(ValidationError):
        contact_merge(winner=contact, loser=contact, actor=marketer)


def test_delete_erases_events_visitors_and_blanks_audit_values(marketer: Any, manager: Any) -> None:
    contact, _ = contact_upsert(
        email="hanako@example.jp", actor=marketer, family_name="佐藤", phone="03-1234-5678"
    )
    contact_update(contact=contact, actor=marketer, family_name="鈴木")
    event_record_one(contact=contact, type="page_view")
    visitor = Visitor.objects.create(key="v-2", contact=contact)
    Event.objects.create(
        client_event_id="anon-1", type="page_view", occurred_at=timezone.now(), visitor=visitor
    )
    other, _ = contact_upsert(email="other@example.jp", actor=marketer)
    event_record_one(contact=other, type="page_view")
    contact_id = contact.pk

    contact_delete(contact=contact, actor=manager)

    assert not Contact.objects.filter(pk=contact_id).exists()
    assert Event.objects.count() == 1 and Event.objects.get().contact_id == other.pk
    assert not Visitor.objects.exists()
    assert not LifecycleTransition.objects.filter(contact_id=contact_id).exists()
    entries = AuditEntry.objects.filter(object_type="contact", object_id=contact_id)
    values = [v for e in entries for pair in e.changes.values() for v in pair]
    assert values and set(values) == {"(erased)"}
    erase = entries.get(action="contact.erase")
    assert erase.actor == manager


def test_delete_also_blanks_audit_values_of_contacts_merged_into_it(
    marketer: Any, manager: Any
) -> None:
    winner, _ = contact_upsert(email="a@example.jp", actor=marketer)
    loser, _ = contact_upsert(email="b@example.jp", actor=marketer, family_name="田中")
    loser_id = loser.pk
    contact_merge(winner=winner, loser=loser, actor=marketer)
    contact_delete(contact=winner, actor=manager)
    values = {
        v
        for e in AuditEntry.objects.filter(object_type="contact", object_id=loser_id)
        for pair in e.changes.values()
        for v in pair
    }
    assert "田中" not in values and "b@example.jp" not in values
