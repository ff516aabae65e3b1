"""Create or update many contacts at once: the set-based write behind CSV imports.

``contacts_bulk_upsert`` takes one chunk of rows (up to ``CHUNK_MAX``) and writes it in
one transaction with a fixed number of queries whatever the chunk's size: one to find the
chunk's contacts by normalised email, two to find its companies (by domain, by normalised
name), bulk inserts of the new companies, contacts, stage transitions and audit entries,
and one ``executemany`` UPDATE for the contacts that actually change. Nothing is written
for a row that changes nothing, so importing the same file twice writes nothing the
second time. After commit, one ``contacts_derive_enqueue`` queues the derived data (fit,
journey) of the contacts created or changed — and of those of companies filled in.

The rows of a chunk behave exactly as if they were upserted one after the other, in
order: the first row of a new email creates the contact, a later row with the same
normalised email updates it following the rules. Values are normalised as
``contact_upsert`` and ``company_upsert`` do (``cleaning``), companies are found by
domain then normalised name as ``company_find`` does.

Rules, per field (``family_name`` … ``prefecture``, ``company``, ``properties`` or
``property:<key>``), say which side wins on an existing contact:

- ``fill`` (default): the row's value is used only where the contact has none;
- ``overwrite``: a non-empty value in the row replaces the stored one;
- ``keep``: the stored value stays.

An empty cell never erases a stored value. The lifecycle stage of a row applies to new
contacts only: an existing contact's stage changes through ``contact_change_stage``,
with its rules. Existing companies are only filled in (empty fields), never renamed.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import NOT_PROVIDED, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from renkei.accounts.models import AuditEntry
from renkei.contacts.models import Company, Contact, LifecycleStage, LifecycleTransition
from renkei.contacts.services.cleaning import (
    _clean_company_data,
    _clean_contact_data,
    _clean_properties,
)
from renkei.contacts.services.common import (
    CONTACT_PERSONAL_FIELDS,
    Actor,
    _actor_user,
    _derive_on_commit,
    _jsonable,
)
from renkei.contacts.services.lifecycle import _unknown_stage
from renkei.lib import japanese as ja

CHUNK_MAX = 5000
FILL, OVERWRITE, KEEP_EXISTING = "fill", "overwrite", "keep"
RULES = (FILL, OVERWRITE, KEEP_EXISTING)
CONTACT_TEXT_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "department",
    "title",
    "phone",
    "prefecture",
)
COMPANY_ROW_FIELDS = ("name", "name_kana", "domain", "address", "prefecture", "phone")
# Written for a changed contact, in this order (then updated_at, then the id).
_UPDATE_COLUMNS = (*CONTACT_TEXT_FIELDS, "company_id", "properties", "search_text")


@dataclass(slots=True)
class ContactRow:
    """One row to upsert, values as read: ``contact`` holds CONTACT_TEXT_FIELDS,
    ``company`` COMPANY_ROW_FIELDS, ``properties`` custom properties. ``touched_at`` is
    the first touch of the contact if the row creates it (default: now)."""

    email: str
    contact: dict[str, str] = field(default_factory=dict)
    company: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    lifecycle_stage: str = ""
    touched_at: datetime | None = None


@dataclass(slots=True)
class RowError:
    """Why row ``index`` (its position in ``rows``) was not imported; ``field`` names the
    value at fault (``email``, ``phone``, ``company_name``, ``property:<key>`` …)."""

    index: int
    field: str
    value: str
    message: str


@dataclass
class BulkUpsertResult:
    """Per row: ``outcomes`` (created, updated, unchanged, error) and ``contact_ids``."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    contact_ids: list[int | None] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)


def rules_errors(rules: Mapping[str, str]) -> dict[str, str]:
    """Unknown rule values, by field (for forms and the command to report)."""
    return {
        name: _("unknown rule %(rule)s; one of %(choices)s")
        % {"rule": repr(rule), "choices": ", ".join(RULES)}
        for name, rule in rules.items()
        if rule not in RULES
    }


def contacts_bulk_upsert(
    *,
    rows: Sequence[ContactRow],
    actor: Actor,
    rules: Mapping[str, str] | None = None,
    source: str = "import",
    campaign_id: int | None = None,
) -> BulkUpsertResult:
    """Create or update the contacts of one chunk of rows (see the module docstring).

    Rows with a bad value are reported in ``errors`` and skipped; the others are written.
    ``campaign_id`` becomes the first-touch campaign of the contacts this creates.
    """
    if len(rows) > CHUNK_MAX:
        raise ValueError(f"at most {CHUNK_MAX} rows per call")
    rules = dict(rules or {})
    if bad := rules_errors(rules):
        raise ValidationError(bad)
    source = source[:64]
    errors: list[RowError] = []
    cleaned = [c for i, row in enumerate(rows) if (c := _clean_row(i, row, errors)) is not None]
    try:
        result = _write(cleaned, len(rows), actor, rules, source, campaign_id)
    except IntegrityError:
        # Another writer created one of these emails or domains between our read and
        # our insert (the transaction rolled back whole): read again, once.
        result = _write(cleaned, len(rows), actor, rules, source, campaign_id)
    result.errors = sorted(errors, key=lambda e: e.index)
    return result


# ---- cleaning (before the transaction) ----------------------------------------------------


@dataclass(slots=True)
class _Clean:
    index: int
    email: str
    key: str
    contact: dict[str, str]
    company: dict[str, Any]
    properties: dict[str, Any]
    stage: str
    touched_at: datetime | None


_COMPANY_ERROR_NAMES = {
    "name": "company_name",
    "name_kana": "company_name_kana",
    "domain": "company_domain",
    "address": "company_address",
    "prefecture": "company_prefecture",
    "phone": "company_phone",
}


def _clean_row(index: int, row: ContactRow, errors: list[RowError]) -> _Clean | None:
    """The row normalised, or None after adding an error per bad value to ``errors``."""
    found: dict[str, str] = {}
    values = {k: v for k, v in row.contact.items() if k in CONTACT_TEXT_FIELDS}
    raw: dict[str, str] = {"email": row.email, **values}
    contact: dict[str, Any] = {}
    if not (row.email or "").strip():
        found["email"] = _("required: every row needs an email address")
    else:
        contact = _clean_fields(_clean_contact_data, {"email": row.email, **values}, found)
    company = _clean_company(row.company, found, raw)
    properties = _clean_row_properties(row.properties, found, raw)
    stage = (row.lifecycle_stage or "").strip()
    if stage and stage not in LifecycleStage.values:
        found["lifecycle_stage"], raw["lifecycle_stage"] = _unknown_stage(stage), stage
    for name, message in found.items():
        errors.append(RowError(index, name, str(raw.get(name, "")), message))
    if found:
        return None
    email = contact.pop("email")
    return _Clean(
        index=index,
        email=email,
        key=ja.normalize_email(email),
        contact=contact,
        company=company,
        properties=properties,
        stage=stage,
        touched_at=row.touched_at,
    )


def _clean_fields(clean: Any, data: dict[str, Any], found: dict[str, str]) -> dict[str, Any]:
    """Run a cleaning function; its field errors go to ``found``."""
    try:
        return dict(clean(data))
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            found[key] = "; ".join(messages)
    return {}


def _clean_row_properties(
    values: dict[str, str], found: dict[str, str], raw: dict[str, str]
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for key, value in values.items():
        raw[f"property:{key}"] = value
        try:
            properties.update(_clean_properties({key: value}))
        except (ValueError, TypeError) as exc:
            found[f"property:{key}"] = str(exc)
    try:
        _clean_properties(properties)  # the size of them all together
    except ValueError as exc:
        found["properties"] = str(exc)
    return properties


def _clean_company(
    values: dict[str, str], found: dict[str, str], raw: dict[str, str]
) -> dict[str, Any]:
    data = {k: v for k, v in values.items() if k in COMPANY_ROW_FIELDS and (v or "").strip()}
    for key, value in data.items():
        raw[_COMPANY_ERROR_NAMES[key]] = value
    if not data.get("name") and not data.get("domain"):
        return {}  # a phone or an address without a company names nothing to attach to
    data.setdefault("name", data.get("domain", ""))
    errors: dict[str, str] = {}
    clean = _clean_fields(_clean_company_data, data, errors)
    for key, message in errors.items():
        found[_COMPANY_ERROR_NAMES.get(key, key)] = message
    if clean:
        clean["key"] = ja.normalize_company_name(clean["name"])
    return clean


# ---- the write ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Company:
    id: int | None
    values: dict[str, Any]  # COMPANY_ROW_FIELDS
    key: str = ""  # normalised name
    changes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(slots=True)
class _State:
    """A contact as the chunk's rows leave it; ``before`` is None for a new contact."""

    values: dict[str, Any]
    before: dict[str, Any] | None
    id: int | None = None
    email: str = ""
    stage: str = ""
    touched_at: datetime | None = None


@transaction.atomic
def _write(
    rows: list[_Clean],
    count: int,
    actor: Actor,
    rules: dict[str, str],
    source: str,
    campaign_id: int | None,
) -> BulkUpsertResult:
    result = BulkUpsertResult(contact_ids=[None] * count, outcomes=["error"] * count)
    if not rows:
        return result
    now = timezone.now()
    companies = _Companies(rows)
    company_of = {row.index: companies.resolve(row.company) for row in rows if row.company}
    companies.save(actor, now)
    states = _load_contacts({row.key for row in rows})
    for row in rows:
        company = company_of.get(row.index)
        state = states.get(row.key)
        if state is None:
            states[row.key] = _new_state(row, company.id if company else None)
            result.outcomes[row.index] = "created"
        else:
            changed = _apply(state, row, company.id if company else None, rules)
            result.outcomes[row.index] = "updated" if changed else "unchanged"
    names = companies.names
    names.update(_company_names(states, known=names))
    written = _insert_new(states, names, actor, source, campaign_id, now)
    written += _update_changed(states, names, actor, now)
    written += companies.filled_contact_ids()
    # One enqueue for the chunk (a task per 1,000 contacts), after it committed.
    _derive_on_commit(written)
    for row in rows:
        result.contact_ids[row.index] = states[row.key].id
    result.created = sum(1 for o in result.outcomes if o == "created")
    result.updated = sum(1 for o in result.outcomes if o == "updated")
    result.unchanged = sum(1 for o in result.outcomes if o == "unchanged")
    return result


def _new_state(row: _Clean, company_id: int | None) -> _State:
    values: dict[str, Any] = {f: row.contact.get(f, "") for f in CONTACT_TEXT_FIELDS}
    values["company_id"] = company_id
    values["properties"] = dict(row.properties)
    return _State(
        values=values,
        before=None,
        email=row.email,
        stage=row.stage or LifecycleStage.LEAD,
        touched_at=row.touched_at,
    )


def _apply(state: _State, row: _Clean, company_id: int | None, rules: dict[str, str]) -> bool:
    """Apply a row to a contact following the rules; True if anything changed."""
    changed = False
    values = state.values
    incoming: dict[str, Any] = {**row.contact, "company_id": company_id}
    for name, new in incoming.items():
        rule = rules.get("company" if name == "company_id" else name, FILL)
        if new in ("", None) or rule == KEEP_EXISTING or values[name] == new:
            continue
        if rule == OVERWRITE or values[name] in ("", None):
            values[name] = new
            changed = True
    properties = values["properties"]
    for key, new in row.properties.items():
        rule = rules.get(f"property:{key}", rules.get("properties", FILL))
        old = properties.get(key)
        if new in ("", None) or rule == KEEP_EXISTING or old == new:
            continue
        if rule == OVERWRITE or old in ("", None):
            values["properties"] = properties = {**properties, key: new}
            changed = True
    return changed


def _load_contacts(keys: set[str]) -> dict[str, _State]:
    """The chunk's existing contacts, locked until commit (one query)."""
    columns = ("id", "email_normalized", *CONTACT_TEXT_FIELDS, "company_id", "properties")
    found = (
        Contact.objects.select_for_update(of=("self",))
        .filter(email_normalized__in=keys)
        .values_list(*columns)
    )
    states = {}
    for row in found:
        values = dict(zip(columns[2:], row[2:], strict=True))
        values["properties"] = (
            values["properties"] if isinstance(values["properties"], dict) else {}
        )
        states[row[1]] = _State(values=values, before=dict(values), id=row[0])
    return states


def _company_names(states: dict[str, _State], known: dict[int, str]) -> dict[int, str]:
    """Names of the other companies the chunk's contacts point at (for their search text)."""
    ids = {s.values["company_id"] for s in states.values() if s.values["company_id"]}
    ids -= known.keys()
    return dict(Company.objects.filter(pk__in=ids).values_list("id", "name")) if ids else {}


def _search_text(key: str, values: dict[str, Any], company_name: str) -> str:
    """What ``common._search_text`` computes, from plain values."""
    return ja.search_text(
        values["family_name"] + values["given_name"],
        values["family_name_kana"].replace(" ", "") + values["given_name_kana"].replace(" ", ""),
        key,
        company_name,
    )


def _insert_new(
    states: dict[str, _State],
    names: dict[int, str],
    actor: Actor,
    source: str,
    campaign_id: int | None,
    now: datetime,
) -> list[int]:
    """Insert the new contacts with their first transition and audit entry.

    Raw multi-row inserts (COPY on PostgreSQL): the ORM's ``bulk_create`` spends more
    time preparing each value than the database spends storing it. One query then reads
    the new ids back by email.
    """
    new = {key: s for key, s in states.items() if s.before is None}
    if not new:
        return []
    at = _db_time(now)
    columns = (
        "email", "email_normalized", "source", "lifecycle_stage", "lifecycle_stage_changed_at",
        "first_campaign_id", "first_touch_at", "first_touch", "search_text", "properties",
        "created_at", "updated_at", *CONTACT_TEXT_FIELDS, "company_id",
    )  # fmt: skip
    rows = [
        (
            s.email, key, source, s.stage, at, campaign_id, _db_time(s.touched_at or now), "{}",
            _search_text(key, s.values, names.get(s.values["company_id"] or 0, "")),
            orjson.dumps(s.values["properties"]).decode(), at, at,
            *(s.values[f] for f in CONTACT_TEXT_FIELDS), s.values["company_id"],
        )
        for key, s in new.items()
    ]  # fmt: skip
    _insert_rows(Contact, columns, rows)
    ids = dict(
        Contact.objects.filter(email_normalized__in=new.keys()).values_list(
            "email_normalized", "id"
        )
    )
    user = _actor_user(actor)
    transitions = []
    entries = []
    for key, state in new.items():
        state.id = ids[key]
        transitions.append(
            (state.id, "", state.stage, at, user.pk if user else None, "", source[:32])
        )
        entries.append((state.id, _creation_audit(key, state)))
    _insert_rows(
        LifecycleTransition,
        ("contact_id", "from_stage", "to_stage", "occurred_at", "actor_id", "reason", "source"),
        transitions,
    )
    _audit(actor, "contact.create", entries, now)
    return list(ids.values())


def _creation_audit(key: str, state: _State) -> dict[str, list[Any]]:
    """``contacts._creation_changes`` from plain values."""
    values = {"email": state.email, **state.values}
    changes: dict[str, list[Any]] = {
        f: [None, values[f]] for f in CONTACT_PERSONAL_FIELDS if values.get(f)
    }
    changes["lifecycle_stage"] = [None, state.stage]
    if values["company_id"]:
        changes["company_id"] = [None, values["company_id"]]
    return changes


def _db_time(value: datetime) -> Any:
    """An aware datetime as the driver stores it (SQLite: Django's naive-UTC text)."""
    if connection.vendor == "sqlite":
        return value.astimezone(UTC).isoformat(" ")[:-6]
    if connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)


def _insert_rows(model: type[Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain tuples; columns not given get their model default (a column another
    migration adds must not break imports)."""
    if not rows:
        return
    extra_columns, extra_values = _defaults(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in (*columns, *extra_columns))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *extra_values))
            return
        marks = ", ".join(["%s"] * (len(columns) + len(extra_columns)))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(sql, [(*row, *extra_values) for row in rows] if extra_values else rows)


def _defaults(model: type[Model], columns: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in columns or f.primary_key or f.db_default is not NOT_PROVIDED:
            continue
        value: Any = timezone.now() if getattr(f, "auto_now_add", False) else f.get_default()
        names.append(f.column)
        values.append(_copy_value(f.get_db_prep_save(value, connection)))
    return names, tuple(values)


def _copy_value(value: Any) -> Any:
    """JSON adapters (psycopg's Jsonb) as text, which COPY and executemany both take."""
    adapted = getattr(value, "obj", None)
    return orjson.dumps(adapted).decode() if adapted is not None else value


def _update_changed(
    states: dict[str, _State], names: dict[int, str], actor: Actor, now: datetime
) -> list[int]:
    """One UPDATE statement (executemany) for the existing contacts that changed."""
    params, entries = [], []
    properties_field = Contact._meta.get_field("properties")
    updated_at = Contact._meta.get_field("updated_at").get_db_prep_save(now, connection)
    for key, state in states.items():
        if state.before is None or state.values == state.before:
            continue
        values = state.values
        changes = {f: [state.before[f], v] for f, v in values.items() if state.before[f] != v}
        entries.append((state.id, changes))
        text = _search_text(key, values, names.get(values["company_id"] or 0, ""))
        params.append(
            (
                *(values[f] for f in CONTACT_TEXT_FIELDS),
                values["company_id"],
                properties_field.get_db_prep_save(values["properties"], connection),
                text,
                updated_at,
                state.id,
            )
        )
    if params:
        table = connection.ops.quote_name(Contact._meta.db_table)
        assignments = ", ".join(f"{c} = %s" for c in (*_UPDATE_COLUMNS, "updated_at"))
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)  # noqa: S608
        _audit(actor, "contact.update", entries, now)
    return [contact_id for contact_id, _changes in entries if contact_id is not None]


def _audit(
    actor: Actor, action: str, entries: list[tuple[Any, dict[str, Any]]], now: datetime
) -> None:
    """One audit entry per object, in one bulk insert (``audit_record``'s shape)."""
    if not entries:
        return
    user = _actor_user(actor)
    label = actor.get_username() if user is not None and actor is not None else "system"
    object_type, at = action.split(".", 1)[0], _db_time(now)
    actor_id = user.pk if user is not None else None
    _insert_rows(
        AuditEntry,
        ("actor_id", "actor_label", "action", "object_type", "object_id", "changes", "reason",
         "created_at"),
        [
            (actor_id, label, action, object_type, object_id,
             orjson.dumps(_jsonable(changes)).decode(), "", at)
            for object_id, changes in entries
        ],
    )  # fmt: skip


class _Companies:
    """The chunk's companies, found as ``company_find`` would, one row after the other.

    Two queries load every company the chunk may match (by domain, by normalised name);
    companies created for earlier rows of the chunk are found by later ones.
    """

    def __init__(self, rows: list[_Clean]) -> None:
        domains = {r.company["domain"] for r in rows if r.company.get("domain")}
        keys = {r.company["key"] for r in rows if r.company}
        columns = ("id", "name_normalized", *COMPANY_ROW_FIELDS)
        loaded: dict[int, tuple[Any, ...]] = {}
        if domains:
            loaded.update(
                (row[0], row)
                # "domain <> ''" repeats the unique index's condition: without it PostgreSQL
                # cannot prove a long IN list matches that partial index and scans the table.
                for row in Company.objects.filter(domain__in=domains)
                .exclude(domain="")
                .values_list(*columns)
            )
        if keys:
            loaded.update(
                (row[0], row)
                for row in Company.objects.filter(name_normalized__in=keys).values_list(*columns)
            )
        self.by_domain: dict[str, _Company] = {}
        self.by_key: dict[str, list[_Company]] = {}
        self.existing: list[_Company] = []
        self.created: list[_Company] = []
        self.names: dict[int, str] = {}
        for company_id in sorted(loaded):  # the oldest company of a name wins, as in company_find
            row = loaded[company_id]
            company = _Company(id=company_id, values=dict(zip(columns[2:], row[2:], strict=True)))
            self._index(company, row[1])
            self.existing.append(company)
            self.names[company_id] = company.values["name"]

    def _index(self, company: _Company, key: str) -> None:
        if company.values["domain"]:
            self.by_domain[company.values["domain"]] = company
        self.by_key.setdefault(key, []).append(company)

    def resolve(self, data: dict[str, Any]) -> _Company:
        domain, key = data.get("domain", ""), data["key"]
        found = self.by_domain.get(domain) if domain else None
        if found is None:
            same_name = self.by_key.get(key, [])
            if domain:
                same_name = [c for c in same_name if not c.values["domain"]]
            found = same_name[0] if same_name else None
        if found is None:
            values = {f: data.get(f, "") for f in COMPANY_ROW_FIELDS}
            found = _Company(id=None, values=values, key=key)
            self.created.append(found)
            self._index(found, key)
            return found
        for name in COMPANY_ROW_FIELDS:
            new = data.get(name, "")
            if name != "name" and new and not found.values[name]:
                if name == "domain" and new in self.by_domain:
                    continue  # another company has it
                found.changes.setdefault(name, [found.values[name], new])[1] = new
                found.values[name] = new
                if name == "domain":
                    self.by_domain[new] = found
        return found

    def filled_contact_ids(self) -> list[int]:
        """The contacts of the existing companies this chunk filled in (one query): a
        company's prefecture may change the fit of every contact it has."""
        filled = [c.id for c in self.existing if c.changes]
        if not filled:
            return []
        return list(Contact.objects.filter(company_id__in=filled).values_list("id", flat=True))

    def save(self, actor: Actor, now: datetime) -> None:
        if self.created:
            objects = [Company(name_normalized=c.key, **c.values) for c in self.created]
            Company.objects.bulk_create(objects, batch_size=500)
            for company, obj in zip(self.created, objects, strict=True):
                company.id = obj.pk
                self.names[obj.pk] = obj.name
            _audit(actor, "company.create", [(obj.pk, {}) for obj in objects], now)
        filled = [c for c in self.existing if c.changes]
        if filled:
            table = connection.ops.quote_name(Company._meta.db_table)
            columns = [f for f in COMPANY_ROW_FIELDS if f != "name"]
            assignments = ", ".join(f"{c} = %s" for c in (*columns, "updated_at"))
            updated_at = Company._meta.get_field("updated_at").get_db_prep_save(now, connection)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608
                    [(*(c.values[f] for f in columns), updated_at, c.id) for c in filled],
                )
            _audit(actor, "company.update", [(c.id, c.changes) for c in filled], now)
