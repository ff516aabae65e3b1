"""Entry signals of a journey stage: validation, the one-line text form, and the SQL.

A signal is one of::

    {"kind": "event", "type": "page_view"}
    {"kind": "event", "type": "page_view", "property": "url", "contains": "/pricing"}
    {"kind": "property", "field": "title", "op": "contains", "value": "部長"}
    {"kind": "property", "field": "properties.plan", "op": "equals", "value": "gold"}

Its text form (one per line in the edit page) is ``page_view``,
``page_view url contains /pricing`` or ``contact title contains 部長``.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.fields.json import KT
from django.db.models.lookups import Contains, Exact
from django.utils.translation import gettext as _

from renkei.events.models import Event, EventType
from renkei.lib.japanese import nfkc

# Contact columns a property condition may test; anything else goes through properties.<key>.
CONTACT_FIELDS = ("department", "title", "prefecture", "source")
OPERATORS = ("equals", "contains")
# Keys end up in a JSON path: keep them to plain identifiers.
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_VALUE = 200


def _check_key(key: str) -> None:
    if not _KEY.match(key):
        raise ValidationError(_("“%(key)s” is not a valid property name.") % {"key": key})


def _check_value(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_VALUE:
        raise ValidationError(_("The value must be 1 to 200 characters of text."))
    return value.strip()


def _event_signal(raw: dict[str, Any]) -> dict[str, str]:
    event_type = raw.get("type")
    if event_type not in EventType.values:
        raise ValidationError(_("Unknown event type “%(type)s”.") % {"type": event_type})
    signal = {"kind": "event", "type": str(event_type)}
    prop, contains = raw.get("property"), raw.get("contains")
    if prop is None and contains is None:
        return signal
    if not isinstance(prop, str):
        raise ValidationError(_("A property condition needs a property name."))
    _check_key(prop)
    signal.update(property=prop, contains=_check_value(contains))
    return signal


def _property_signal(raw: dict[str, Any]) -> dict[str, str]:
    field = raw.get("field")
    if not isinstance(field, str):
        raise ValidationError(_("A contact condition needs a field."))
    if field.startswith("properties."):
        _check_key(field.removeprefix("properties."))
    elif field not in CONTACT_FIELDS:
        raise ValidationError(_("Unknown contact field “%(field)s”.") % {"field": field})
    op = raw.get("op")
    if op not in OPERATORS:
        raise ValidationError(_("Unknown operator “%(op)s”: use equals or contains.") % {"op": op})
    # Contact fields are stored NFKC-normalised: normalise the value the same way.
    value = _check_value(raw.get("value"))
    if not field.startswith("properties."):
        value = nfkc(value)
    return {"kind": "property", "field": field, "op": str(op), "value": value}


def signal_clean(raw: Any) -> dict[str, str]:
    """Return the canonical form of one signal, or raise ValidationError saying what is wrong."""
    if not isinstance(raw, dict):
        raise ValidationError(_("A signal must be an object."))
    if raw.get("kind") == "event":
        return _event_signal(raw)
    if raw.get("kind") == "property":
        return _property_signal(raw)
    raise ValidationError(_("A signal's kind must be “event” or “property”."))


def signal_parse(line: str) -> dict[str, str]:
    """Parse the text form of one signal (see the module docstring)."""
    parts = line.split(maxsplit=3)
    if parts[0] == "contact":
        if len(parts) != 4:
            raise ValidationError(_("Write “contact <field> equals|contains <value>”."))
        return signal_clean(
            {"kind": "property", "field": parts[1], "op": parts[2], "value": parts[3]}
        )
    if len(parts) == 1:
        return signal_clean({"kind": "event", "type": parts[0]})
    if len(parts) != 4 or parts[2] != "contains":
        raise ValidationError(
            _("Write “<event type>” or “<event type> <property> contains <text>”.")
        )
    return signal_clean(
        {"kind": "event", "type": parts[0], "property": parts[1], "contains": parts[3]}
    )


def signal_format(signal: dict[str, str]) -> str:
    """The text form of a canonical signal."""
    if signal["kind"] == "property":
        return f"contact {signal['field']} {signal['op']} {signal['value']}"
    if "property" in signal:
        return f"{signal['type']} {signal['property']} contains {signal['contains']}"
    return signal["type"]


def signal_condition(signal: dict[str, str]) -> Q | Exists:
    """A condition on Contact rows that holds when the contact has met the signal.

    Event signals are EXISTS subqueries that use the (contact, occurred_at) index.
    """
    if signal["kind"] == "event":
        events = Event.objects.filter(contact=OuterRef("pk"), type=signal["type"])
        if "property" in signal:
            events = events.annotate(signal_value=KT(f"properties__{signal['property']}")).filter(
                signal_value__contains=signal["contains"]
            )
        return Exists(events)
    field, value = signal["field"], signal["value"]
    lookup = Exact if signal["op"] == "equals" else Contains
    if field.startswith("properties."):
        # A text lookup on the key's value (on PostgreSQL a JSON "contains" means containment).
        return Q(lookup(KT(f"properties__{field.removeprefix('properties.')}"), value))
    return Q(lookup(F(field), value))
