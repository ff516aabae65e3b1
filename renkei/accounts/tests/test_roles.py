"""What each role may do, checked through Django's own user.has_perm."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission, User

from renkei.accounts.models import AuditEntry
from renkei.accounts.roles import (
    ADMIN,
    MANAGER,
    MARKETING,
    ROLE_PERMISSIONS,
    ROLES,
    SALES,
    VIEWER,
    roles_sync,
    user_role,
)
from renkei.accounts.services import user_set_role

pytestmark = pytest.mark.django_db

VIEW = [
    "contacts.view_contact",
    "contacts.view_company",
    "contacts.view_lifecycletransition",
    "events.view_event",
    "events.view_visitor",
    "campaigns.view_campaign",
]
EDIT_CONTACTS = [
    "contacts.add_contact",
    "contacts.change_contact",
    "contacts.add_company",
    "contacts.change_company",
    "events.add_event",
]
STAGE = "contacts.change_lifecycle_stage"
OWNER = "contacts.assign_owner"
MERGE = "contacts.merge_contact"
DELETE = ["contacts.delete_contact", "contacts.delete_company"]
CAMPAIGNS = ["campaigns.add_campaign", "campaigns.change_campaign"]
AUDIT = "accounts.view_auditentry"
USERS = ["auth.add_user", "auth.change_user"]


def user_in(role: str) -> User:
    """A fresh, non-superuser user in the role (a fresh instance: no permission cache)."""
    roles_sync()
    user = User.objects.create_user(username=f"u-{role}")
    user_set_role(user=user, role=role, actor=None)
    return User.objects.get(pk=user.pk)


def test_viewer_may_view_everything_and_change_nothing() -> None:
    user = user_in(VIEWER)
    assert all(user.has_perm(p) for p in VIEW)
    forbidden = [*EDIT_CONTACTS, STAGE, OWNER, MERGE, *DELETE, *CAMPAIGNS, AUDIT, *USERS]
    assert not any(user.has_perm(p) for p in forbidden)


def test_sales_edits_contacts_changes_stage_and_assigns_owner() -> None:
    user = user_in(SALES)
    assert all(user.has_perm(p) for p in [*VIEW, *EDIT_CONTACTS, STAGE, OWNER])


def test_sales_may_not_delete_merge_or_touch_campaigns() -> None:
    user = user_in(SALES)
    assert not any(user.has_perm(p) for p in [*DELETE, MERGE, *CAMPAIGNS, AUDIT, *USERS])


def test_marketing_runs_campaigns_and_merges_contacts() -> None:
    user = user_in(MARKETING)
    assert all(user.has_perm(p) for p in [*VIEW, *EDIT_CONTACTS, STAGE, MERGE, *CAMPAIGNS])


def test_marketing_may_not_delete_or_assign_owners() -> None:
    user = user_in(MARKETING)
    assert not any(user.has_perm(p) for p in [*DELETE, OWNER, AUDIT, *USERS])


def test_manager_deletes_assigns_owners_and_reads_the_audit_trail() -> None:
    user = user_in(MANAGER)
    granted = [*VIEW, *EDIT_CONTACTS, STAGE, OWNER, MERGE, *DELETE, *CAMPAIGNS, AUDIT]
    assert all(user.has_perm(p) for p in granted)
    assert not any(user.has_perm(p) for p in USERS)


def test_admin_role_manages_users_without_being_superuser() -> None:
    user = user_in(ADMIN)
    assert not user.is_superuser
    granted = [*VIEW, *EDIT_CONTACTS, STAGE, OWNER, MERGE, *DELETE, *CAMPAIGNS, AUDIT, *USERS]
    assert all(user.has_perm(p) for p in granted)
    # Users are deactivated, never deleted: their names stay on the audit trail.
    assert not user.has_perm("auth.delete_user")


def test_inactive_user_has_no_permissions_whatever_the_role() -> None:
    user = user_in(MANAGER)
    user.is_active = False
    user.save()
    assert not User.objects.get(pk=user.pk).has_perm("contacts.view_contact")


def test_every_role_permission_exists_after_migrate() -> None:
    existing = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    assert wanted - existing == set()


def _group_permissions() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.filter(name__in=ROLES).prefetch_related(
            "permissions__content_type"
        )
    }


def test_roles_sync_is_idempotent() -> None:
    roles_sync()
    first = _group_permissions()
    roles_sync()
    roles_sync()
    assert _group_permissions() == first
    assert Group.objects.filter(name__in=ROLES).count() == len(ROLES)
    assert first == {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()}


def test_roles_sync_restores_a_deleted_group_and_removes_extra_permissions() -> None:
    roles_sync()
    Group.objects.filter(name=MARKETING).delete()
    viewer = Group.objects.get(name=VIEWER)
    viewer.permissions.add(Permission.objects.get(codename="delete_contact"))
    roles_sync()
    permissions = _group_permissions()
    assert permissions[MARKETING] == set(ROLE_PERMISSIONS[MARKETING])
    assert "contacts.delete_contact" not in permissions[VIEWER]


def test_user_set_role_keeps_exactly_one_role_and_other_groups() -> None:
    user = user_in(SALES)
    other = Group.objects.create(name="東京支社")
    user.groups.add(other)
    user_set_role(user=user, role=MARKETING, actor=None)
    names = set(user.groups.values_list("name", flat=True))
    assert names == {MARKETING, "東京支社"}
    assert user_role(user) == MARKETING


def test_user_set_role_takes_effect_on_the_same_instance() -> None:
    user = user_in(VIEWER)
    assert not user.has_perm("contacts.change_contact")
    user_set_role(user=user, role=SALES, actor=None)
    assert user.has_perm("contacts.change_contact")


def test_user_set_role_is_audited_with_actor_and_old_and_new_role(admin_user: User) -> None:
    user = user_in(SALES)
    user_set_role(user=user, role=MANAGER, actor=admin_user)
    entry = AuditEntry.objects.filter(action="user.role", object_id=user.pk).first()
    assert entry is not None
    assert entry.object_type == "user"
    assert entry.actor == admin_user
    assert entry.actor_label == "admin"
    assert entry.changes == {"role": [SALES, MANAGER]}


def test_setting_the_same_role_again_writes_no_audit_entry() -> None:
    user = user_in(SALES)
    before = AuditEntry.objects.filter(action="user.role", object_id=user.pk).count()
    user_set_role(user=user, role=SALES, actor=None)
    assert AuditEntry.objects.filter(action="user.role", object_id=user.pk).count() == before


def test_unknown_role_is_refused_and_changes_nothing() -> None:
    user = user_in(SALES)
    with pytest.raises(ValueError, match="unknown role: 'god'"):
        user_set_role(user=user, role="god", actor=None)
    assert user_role(User.objects.get(pk=user.pk)) == SALES


def test_user_set_role_works_before_role_groups_exist() -> None:
    Group.objects.filter(name__in=ROLES).delete()
    user = User.objects.create_user(username="early")
    user_set_role(user=user, role=VIEWER, actor=None)
    assert user_role(user) == VIEWER
    assert User.objects.get(pk=user.pk).has_perm("contacts.view_contact")


def test_user_role_names_the_role() -> None:
    assert user_role(user_in(MARKETING)) == MARKETING
    assert user_role(User.objects.create_user(username="nobody")) == ""
    assert user_role(AnonymousUser()) == ""
    superuser = User.objects.create_superuser(username="root", password="x-1-y-2-z-3")
    assert user_role(superuser) == ADMIN
