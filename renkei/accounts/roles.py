"""The five roles as Django groups, and what each may do.

Everyone may view every contact, company, event and timeline (shared information is the
point of Renkei); changes follow the role.
"""

from typing import Any

from django.contrib.auth.models import (
    AbstractBaseUser,
    AnonymousUser,
    Group,
    Permission,
    PermissionsMixin,
)
from django.db.models import Q

ADMIN, MANAGER, MARKETING, SALES, VIEWER = "admin", "manager", "marketing", "sales", "viewer"
ROLES = (ADMIN, MANAGER, MARKETING, SALES, VIEWER)

_VIEW = [
    "contacts.view_contact",
    "contacts.view_company",
    "campaigns.view_campaign",
    "events.view_event",
    "events.view_visitor",
    "contacts.view_lifecycletransition",
    "contacts.view_consent",
    "capture.view_webform",
    "scoring.view_engagementrule",
    "personas.view_persona",
    "journey.view_journeystage",
    "qualification.view_qualificationpolicy",
    "sla.view_slaagreement",
    "sla.view_businesscalendar",
    "deals.view_deal",
    "deals.view_pipeline",
    "handoff.view_routingrule",
]
_EDIT_PEOPLE = [
    "contacts.add_contact",
    "contacts.change_contact",
    "contacts.add_company",
    "contacts.change_company",
    "contacts.change_lifecycle_stage",
    "events.add_event",
    "accounts.add_apitoken",
    "imports.add_importjob",
    "imports.view_importjob",
    "imports.add_mappingpreset",
    # Personas and the journey are authored by both teams together.
    "personas.add_persona",
    "personas.change_persona",
    "personas.approve_persona",
    "journey.add_journeystage",
    "journey.change_journeystage",
]
_CAMPAIGNS = [
    "campaigns.add_campaign",
    "campaigns.change_campaign",
    "campaigns.delete_campaign",
    "capture.add_webform",
    "capture.change_webform",
    "capture.delete_webform",
    "contacts.export_contact",
    "contacts.merge_company",
    "scoring.add_engagementrule",
    "scoring.change_engagementrule",
    "scoring.delete_engagementrule",
    "scoring.run_rescore",
    "personas.delete_persona",
    "journey.delete_journeystage",
    "qualification.change_qualificationpolicy",
    "qualification.run_qualification",
    # The SLA: marketing drafts and signs its side; compliance shows both sides.
    "sla.add_slaagreement",
    "sla.change_slaagreement",
    "sla.approve_slaagreement",
    "sla.view_sla_compliance",
    # Marketing sees what sales made of its leads and fixes the data-quality rejections.
    "handoff.view_handoff_results",
    "handoff.resolve_queue",
]
_MANAGE = [
    "contacts.assign_owner",
    "contacts.merge_contact",
    "contacts.delete_contact",
    "contacts.delete_company",
    "accounts.view_auditentry",
    "sla.change_businesscalendar",
    "deals.change_any_deal",
    "deals.add_pipeline",
    "deals.change_pipeline",
    "handoff.view_assignment",
    "handoff.reassign_lead",
    "handoff.add_routingrule",
    "handoff.change_routingrule",
    "handoff.delete_routingrule",
    "handoff.change_repsettings",
]

# Users are deactivated, never deleted: their names stay on the audit trail and timelines.
_USERS = ["auth.view_user", "auth.add_user", "auth.change_user"]
# Public capture: which sites may post forms and tracking, where forms may redirect.
_SITE = ["capture.change_capturesettings"]

# Sales reps create deals and change their own; _MANAGE adds everyone's and the pipelines.
_DEALS = ["deals.add_deal", "deals.change_deal"]
# Reps (and managers who carry leads) accept, reject and log touches on their own leads.
_LEADS = ["handoff.work_lead"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    VIEWER: _VIEW,
    SALES: [*_VIEW, *_EDIT_PEOPLE, "contacts.assign_owner", *_DEALS, *_LEADS],
    MARKETING: [*_VIEW, *_EDIT_PEOPLE, *_CAMPAIGNS, "contacts.merge_contact"],
    MANAGER: [*_VIEW, *_EDIT_PEOPLE, *_CAMPAIGNS, *_MANAGE, *_DEALS, *_LEADS],
    ADMIN: [*_VIEW, *_EDIT_PEOPLE, *_CAMPAIGNS, *_MANAGE, *_DEALS, *_LEADS, *_USERS, *_SITE],
}


def roles_sync() -> None:
    """Create the role groups and give each exactly its permissions (idempotent).

    Permissions that do not exist yet are skipped: during ``migrate`` this runs after each
    Renkei app, before later apps have created theirs (a test checks that none is missing
    once every app is migrated).
    """
    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    query = Q()
    for perm in wanted:
        app_label, codename = perm.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    by_name = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.filter(query).select_related("content_type")
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([by_name[p] for p in perms if p in by_name])


def sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    # Each app's permissions are created by its own post_migrate; syncing after every
    # Renkei app means the last one sees them all.
    if getattr(sender, "name", "").startswith("renkei."):
        roles_sync()


def user_role(user: AbstractBaseUser | AnonymousUser) -> str:
    """The user's role name (the first of their groups that is a role), or ''."""
    if not isinstance(user, PermissionsMixin) or not user.is_authenticated:
        return ""
    if user.is_superuser:
        return ADMIN
    names = {g.name for g in user.groups.all()}  # uses prefetch_related("groups") when given
    return next((role for role in ROLES if role in names), "")
