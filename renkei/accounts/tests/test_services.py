"""API tokens (stored hashed, shown once) and the audit trail."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.utils import timezone

from renkei.accounts.models import ApiToken, AuditEntry
from renkei.accounts.services import (
    TOKEN_PREFIX,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    audit_erase_values,
    audit_record,
)

pytestmark = pytest.mark.django_db


def every_stored_value() -> str:
    """Every row of every table in the database, as one string."""
    dump: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dump)


# --- API tokens -----------------------------------------------------------------------------


def test_token_secret_is_stored_nowhere_only_its_hash(sales_rep: User) -> None:
    token, secret = api_token_create(user=sales_rep, name="CSV連携")
    assert secret.startswith(TOKEN_PREFIX)
    assert len(secret) > 40
    stored = every_stored_value()
    assert secret not in stored
    # The prefix shown to recognise a token is a few characters; the rest is never stored.
    assert secret[len(token.prefix) :] not in stored
    assert secret.startswith(token.prefix)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.token_hash in stored


def test_each_token_has_its_own_secret(sales_rep: User) -> None:
    secrets = {api_token_create(user=sales_rep, name=f"t{i}")[1] for i in range(5)}
    assert len(secrets) == 5


def test_token_authenticates_its_user_and_records_last_use(sales_rep: User) -> None:
    token, secret = api_token_create(user=sales_rep, name="test")
    assert token.last_used_at is None
    assert api_token_authenticate(secret) == sales_rep
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(sales_rep: User) -> None:
    token, secret = api_token_create(user=sales_rep, name="busy")
    api_token_authenticate(secret)
    token.refresh_from_db()
    first_use = token.last_used_at
    api_token_authenticate(secret)
    token.refresh_from_db()
    assert token.last_used_at == first_use
    assert first_use is not None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=5))
    api_token_authenticate(secret)
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at > first_use


def test_revoked_token_no_longer_authenticates(sales_rep: User, manager: User) -> None:
    token, secret = api_token_create(user=sales_rep, name="old")
    api_token_revoke(token=token, actor=manager)
    assert api_token_authenticate(secret) is None
    token.refresh_from_db()
    assert not token.is_active


def test_revoking_is_audited_once(sales_rep: User) -> None:
    token, _ = api_token_create(user=sales_rep, name="old")
    api_token_revoke(token=token, actor=sales_rep)
    api_token_revoke(token=token, actor=sales_rep)
    actions = list(
        AuditEntry.objects.filter(object_type="apitoken", object_id=token.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["api_token.create", "api_token.revoke"]


def test_token_of_inactive_user_fails(sales_rep: User) -> None:
    _, secret = api_token_create(user=sales_rep, name="leaver")
    sales_rep.is_active = False
    sales_rep.save()
    assert api_token_authenticate(secret) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.removeprefix(TOKEN_PREFIX),  # the prefix is missing
        lambda s: "xx_" + s.removeprefix(TOKEN_PREFIX),  # another prefix
        lambda s: s.upper(),
        lambda s: s[:-1],
        lambda s: s + "x",
        lambda s: TOKEN_PREFIX,
        lambda s: "",
        lambda s: hashlib.sha256(s.encode()).hexdigest(),  # the stored hash is not a secret
    ],
    ids=["no-prefix", "wrong-prefix", "upper", "truncated", "extended", "bare", "empty", "hash"],
)
def test_wrong_secret_fails(sales_rep: User, mangle: object) -> None:
    _, secret = api_token_create(user=sales_rep, name="test")
    assert api_token_authenticate(mangle(secret)) is None  # type: ignore[operator]


def test_blank_token_name_gets_a_default(sales_rep: User) -> None:
    token, _ = api_token_create(user=sales_rep, name="   ")
    assert token.name == "API"


# --- audit trail ----------------------------------------------------------------------------


def test_audit_record_keeps_actor_action_object_changes_and_reason(manager: User) -> None:
    before = timezone.now()
    entry = audit_record(
        actor=manager,
        action="contact.stage",
        object_type="contact",
        object_id=42,
        changes={"lifecycle_stage": ["mql", "lead"]},
        reason="予算なし",
    )
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor == manager
    assert entry.actor_label == "manager"
    assert (entry.action, entry.object_type, entry.object_id) == ("contact.stage", "contact", 42)
    assert entry.changes == {"lifecycle_stage": ["mql", "lead"]}
    assert entry.reason == "予算なし"
    assert before <= entry.created_at <= timezone.now()


@pytest.mark.parametrize("actor", [None, AnonymousUser()], ids=["none", "anonymous"])
def test_audit_entry_without_a_user_is_by_system(actor: object) -> None:
    entry = audit_record(actor=actor, action="contact.create", object_type="contact", object_id=1)  # type: ignore[arg-type]
    assert entry.actor is None
    assert entry.actor_label == "system"
    assert entry.changes == {}


def test_audit_entry_outlives_its_actor(sales_rep: User) -> None:
    entry = audit_record(
        actor=sales_rep, action="contact.owner", object_type="contact", object_id=1
    )
    sales_rep.delete()
    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_label == "sales1"


def test_erasing_blanks_values_and_reason_but_keeps_who_what_when(manager: User) -> None:
    entry = audit_record(
        actor=manager,
        action="contact.update",
        object_type="contact",
        object_id=7,
        changes={"email": ["a@example.jp", "b@example.jp"], "phone": ["", "+81312345678"]},
        reason="山田様からの電話で変更",
    )
    bare = audit_record(actor=manager, action="contact.create", object_type="contact", object_id=7)
    audit_erase_values(object_type="contact", object_id=7)
    entry.refresh_from_db()
    assert entry.changes == {"email": ["(erased)", "(erased)"], "phone": ["(erased)", "(erased)"]}
    assert entry.reason == "(erased)"
    assert (entry.actor, entry.action, entry.object_id) == (manager, "contact.update", 7)
    assert "a@example.jp" not in every_stored_value()
    assert "山田様" not in every_stored_value()
    bare.refresh_from_db()
    assert bare.changes == {}
    assert bare.reason == ""


def test_erasing_touches_only_that_object(manager: User) -> None:
    kept = [
        audit_record(
            actor=manager,
            action="contact.update",
            object_type=object_type,
            object_id=object_id,
            changes={"email": ["a@example.jp", "b@example.jp"]},
        )
        for object_type, object_id in [("contact", 8), ("company", 7)]
    ]
    audit_record(
        actor=manager,
        action="contact.update",
        object_type="contact",
        object_id=7,
        changes={"email": ["x@example.jp", "y@example.jp"]},
    )
    audit_erase_values(object_type="contact", object_id=7)
    for entry in kept:
        entry.refresh_from_db()
        assert entry.changes == {"email": ["a@example.jp", "b@example.jp"]}


def test_erasing_twice_is_harmless(manager: User) -> None:
    audit_record(
        actor=manager,
        action="contact.update",
        object_type="contact",
        object_id=9,
        changes={"title": ["部長", "本部長"]},
    )
    audit_erase_values(object_type="contact", object_id=9)
    audit_erase_values(object_type="contact", object_id=9)
    entry = AuditEntry.objects.get(object_id=9)
    assert entry.changes == {"title": ["(erased)", "(erased)"]}
