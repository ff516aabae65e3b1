"""The set-based writes of routing: a chunk's assignments and their audit entries in two
statements, whatever the chunk's size.

Django's ``bulk_create`` is avoided on this path: it prepares every value of every model
instance, and with ``ignore_conflicts`` it cannot say which rows it inserted (a second
read would be needed). ``INSERT … ON CONFLICT DO NOTHING RETURNING`` does both at once:
a contact another worker assigned meanwhile (the partial unique index on open
assignments) is simply not returned. On PostgreSQL each column travels as one array:
the driver quotes parameters client-side, and a thousand rows of placeholders cost more
to quote than to insert.
"""

from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection

from renkei.accounts.models import AuditEntry
from renkei.handoff.models import Assignment, AssignmentStatus


@dataclass(frozen=True)
class Pick:
    """Routing's decision for one contact."""

    contact_id: int
    user_id: int
    method: str
    rule_id: int | None
    rule_name: str


@dataclass(frozen=True)
class Made:
    """An assignment inserted by this worker."""

    id: int
    contact_id: int
    user_id: int
    method: str


ASSIGNMENT_COLUMNS = (
    "contact_id, user_id, method, rule_id, rule_name, status, assigned_at, assigned_by_id, "
    "reason_code, reason_text, queue_state"
)


def assignments_insert(picks: list[Pick], *, at: datetime, by: int | None) -> list[Made]:
    """Insert open assignments for the picks; returns those inserted (a contact with an
    open assignment already is skipped, never an error)."""
    if not picks:
        return []
    table = connection.ops.quote_name(Assignment._meta.db_table)
    head = f"INSERT INTO {table} ({ASSIGNMENT_COLUMNS}) "
    tail = " ON CONFLICT DO NOTHING RETURNING id, contact_id, user_id, method"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                head + "SELECT x.c, x.u, x.m, x.r, x.n, %s, %s, %s, '', '', '' "
                "FROM unnest(%s::bigint[], %s::integer[], %s::varchar[], %s::bigint[], "
                "%s::varchar[]) AS x(c, u, m, r, n)" + tail,
                [
                    AssignmentStatus.OPEN,
                    at,
                    by,
                    [p.contact_id for p in picks],
                    [p.user_id for p in picks],
                    [p.method for p in picks],
                    [p.rule_id for p in picks],
                    [p.rule_name for p in picks],
                ],
            )
        else:
            when = connection.ops.adapt_datetimefield_value(at)
            marks = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, '', '', '')"] * len(picks))
            same = (AssignmentStatus.OPEN, when, by)
            params = [
                value
                for p in picks
                for value in (p.contact_id, p.user_id, p.method, p.rule_id, p.rule_name, *same)
            ]
            cursor.execute(head + f"VALUES {marks}" + tail, params)  # SQLite ≥ 3.35: RETURNING
        return [Made(*row) for row in cursor.fetchall()]


def assignments_audit(made: list[Made], *, at: datetime, by: int | None, label: str) -> None:
    """One ``handoff.assign`` audit entry per new assignment (who got it and how), built
    by the database from the ids and users: one statement."""
    if not made:
        return
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    head = (
        f"INSERT INTO {table} (actor_id, actor_label, action, object_type, object_id, "
        "changes, reason, created_at) "
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                head + "SELECT %s, %s, 'handoff.assign', 'contact', x.c, "
                "jsonb_build_object('assigned_to', jsonb_build_array(NULL, x.u), "
                "'method', jsonb_build_array(NULL, x.m)), '', %s "
                "FROM unnest(%s::bigint[], %s::integer[], %s::varchar[]) AS x(c, u, m)",
                [
                    by,
                    label,
                    at,
                    [m.contact_id for m in made],
                    [m.user_id for m in made],
                    [m.method for m in made],
                ],
            )
            return
        rows = orjson.dumps([[m.contact_id, m.user_id, m.method] for m in made]).decode()
        cursor.execute(
            head  # noqa: S608
            + "SELECT %s, %s, 'handoff.assign', 'contact', value ->> 0, "
            "json_object('assigned_to', json_array(NULL, value ->> 1), "
            "'method', json_array(NULL, value ->> 2)), '', %s FROM json_each(%s)",
            [by, label, connection.ops.adapt_datetimefield_value(at), rows],
        )
