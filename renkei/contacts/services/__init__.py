"""Every write to companies and contacts: dedupe, normalisation, stage, owner, merge, erase.

Views, the API, tasks and commands call these; none of them writes the models directly.
Errors are Django ``ValidationError``s keyed by field, so every caller can name the field;
two subclasses say more: ``Conflict`` (the data changed meanwhile or collides with another
row) and ``ReferenceNotFound`` (an id points at nothing).

The package's modules, in the order a write passes through them:

- ``cleaning``: input normalisation and validation (NFKC, kana, phones, JSON);
- ``common``: errors, ``Actor``, ``KEEP``, audit helpers, the contact's search text;
- ``companies``: company find / upsert / update / owner / delete;
- ``contacts``: contact upsert / update / owner / edit / erase;
- ``lifecycle``: ``contact_change_stage``, ``contacts_change_stage_bulk`` and the stage rules;
- ``merge``: ``contact_merge``, ``company_merge``;
- ``bulk``: ``contacts_ensure_for_emails`` for event ingestion;
- ``bulk_upsert``: ``contacts_bulk_upsert``, the set-based create-or-update of CSV imports;
- ``touch``: consent records and the first touch that capture stamps on contacts.

Import from here (``from renkei.contacts.services import contact_upsert``), not from the
modules: they may be split or merged again.
"""

from renkei.contacts.services.bulk import contacts_ensure_for_emails
from renkei.contacts.services.bulk_upsert import (
    BulkUpsertResult,
    ContactRow,
    RowError,
    contacts_bulk_upsert,
)
from renkei.contacts.services.cleaning import PROPERTIES_MAX_BYTES
from renkei.contacts.services.common import (
    COMPANY_FIELDS,
    CONTACT_FIELDS,
    CONTACT_PERSONAL_FIELDS,
    KEEP,
    Actor,
    Conflict,
    ReferenceNotFound,
    _search_text,
)
from renkei.contacts.services.companies import (
    company_assign_owner,
    company_delete,
    company_edit,
    company_find,
    company_update,
    company_upsert,
)
from renkei.contacts.services.contacts import (
    contact_assign_owner,
    contact_delete,
    contact_edit,
    contact_update,
    contact_upsert,
)
from renkei.contacts.services.lifecycle import contact_change_stage, contacts_change_stage_bulk
from renkei.contacts.services.merge import company_merge, contact_merge
from renkei.contacts.services.scores import (
    contact_scores_of,
    contact_scores_replace_all,
    contact_scores_set,
)
from renkei.contacts.services.touch import (
    UTM_KEYS,
    FirstTouch,
    consent_record,
    contact_consent_current,
    contacts_stamp_first_touch,
)

__all__ = [
    "COMPANY_FIELDS",
    "CONTACT_FIELDS",
    "CONTACT_PERSONAL_FIELDS",
    "KEEP",
    "PROPERTIES_MAX_BYTES",
    "UTM_KEYS",
    "Actor",
    "BulkUpsertResult",
    "Conflict",
    "ContactRow",
    "FirstTouch",
    "ReferenceNotFound",
    "RowError",
    "_search_text",
    "company_assign_owner",
    "company_delete",
    "company_edit",
    "company_find",
    "company_merge",
    "company_update",
    "company_upsert",
    "consent_record",
    "contact_assign_owner",
    "contact_change_stage",
    "contact_consent_current",
    "contact_delete",
    "contact_edit",
    "contact_merge",
    "contact_scores_of",
    "contact_scores_replace_all",
    "contact_scores_set",
    "contact_update",
    "contact_upsert",
    "contacts_bulk_upsert",
    "contacts_change_stage_bulk",
    "contacts_ensure_for_emails",
    "contacts_stamp_first_touch",
]
