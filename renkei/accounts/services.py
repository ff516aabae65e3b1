"""Writes for users, roles, API tokens and the audit trail."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import transaction
from django.utils import timezone

from renkei.accounts.models import ApiToken, AuditEntry, LoginFailure
from renkei.accounts.roles import ROLES, roles_sync

TOKEN_PREFIX = "rk_"  # noqa: S105 (a prefix, not a secret)

Actor = AbstractBaseUser | AnonymousUser | None


def _actor_fields(actor: Actor) -> dict[str, Any]:
    if actor is None or not actor.is_authenticated:
        return {"actor": None, "actor_label": "system"}
    return {"actor": actor, "actor_label": actor.get_username()}


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one entry to the audit trail. Callers run it inside their own transaction."""
    return AuditEntry.objects.create(
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=changes or {},
        reason=reason,
        **_actor_fields(actor),
    )


ERASED = "(erased)"


def audit_erase_values(*, object_type: str, object_id: int) -> None:
    """Blank the values of an erased object's entries: old and new values and the free-text
    reason (which may quote the person). Who changed which field, when, stays."""
    entries = list(AuditEntry.objects.filter(object_type=object_type, object_id=object_id))
    for entry in entries:
        changes = entry.changes if isinstance(entry.changes, dict) else {}
        entry.changes = {field: [ERASED, ERASED] for field in changes}
        entry.reason = ERASED if entry.reason else ""
    AuditEntry.objects.bulk_update(entries, ["changes", "reason"], batch_size=500)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user_id=user.pk, name=name.strip() or "API", prefix=secret[:10], token_hash=_hash(secret)
    )
    audit_record(actor=user, action="api_token.create", object_type="apitoken", object_id=token.pk)
    return token, secret


def api_token_authenticate(secret: str) -> AbstractBaseUser | None:
    """The active user a bearer secret belongs to, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(secret), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write last_used_at at most once a minute: ingestion sends many requests a second.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: AbstractBaseUser) -> None:
    if ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now()):
        audit_record(
            actor=actor, action="api_token.revoke", object_type="apitoken", object_id=token.pk
        )


@transaction.atomic
def user_set_role(*, user: AbstractBaseUser, role: str, actor: Actor) -> None:
    """Put the user in exactly one role group (other groups stay); audited when it changes."""
    if role not in ROLES:
        raise ValueError(f"unknown role: {role!r}; one of {', '.join(ROLES)}")
    old = sorted(g.name for g in user.groups.filter(name__in=ROLES))  # type: ignore[attr-defined]
    if old == [role]:
        return
    group = Group.objects.filter(name=role).first()
    if group is None:  # a database migrated before the role existed
        roles_sync()
        group = Group.objects.get(name=role)
    user.groups.remove(*Group.objects.filter(name__in=ROLES))  # type: ignore[attr-defined]
    user.groups.add(group)  # type: ignore[attr-defined]
    # ModelBackend caches permissions on the instance; the caller may check them next.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    audit_record(
        actor=actor,
        action="user.role",
        object_type="user",
        object_id=user.pk,
        changes={"role": [",".join(old), role]},
    )


# Sign-in throttle: per address and per username, so that neither one machine guessing many
# accounts nor many machines guessing one account get more than a handful of tries.
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_MAX_FAILURES_PER_IP = 20
LOGIN_MAX_FAILURES_PER_USERNAME = 5


def login_allowed(*, ip: str | None, username: str) -> bool:
    """False while the address or the username has too many recent failures."""
    since = timezone.now() - LOGIN_WINDOW
    recent = LoginFailure.objects.filter(created_at__gte=since)
    if ip and recent.filter(ip=ip).count() >= LOGIN_MAX_FAILURES_PER_IP:
        return False
    return recent.filter(username=username.lower()).count() < LOGIN_MAX_FAILURES_PER_USERNAME


def login_failure_record(*, ip: str | None, username: str) -> None:
    """Remember a failed sign-in; failures older than the window are dropped on the way."""
    LoginFailure.objects.filter(created_at__lt=timezone.now() - LOGIN_WINDOW).delete()
    LoginFailure.objects.create(ip=ip or None, username=username.lower()[:150])
