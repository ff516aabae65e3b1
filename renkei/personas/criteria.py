"""Persona criteria: validation, the text format authors edit, evaluation and wording.

A criterion is a dict ``{"field": ..., "weight": 1-100, ...}``:

============== ================================= =========================================
field          operands                          met when
============== ================================= =========================================
industry       ``values``: Industry codes        the company's industry is one of them
employees      ``min``, ``max`` (inclusive)      the company's employee count is in range
title          ``values``: keywords              the contact's title contains any keyword
department     ``values``: keywords              the contact's department contains any
prefecture     ``values``: prefectures           the contact's or company's prefecture is in
stage          ``values``: lifecycle stages      the contact's lifecycle stage is one of them
property       ``key``, ``value``                ``properties[key]`` equals ``value``
============== ================================= =========================================

Keywords and text are compared after NFKC and case folding, so 「ＩＴ部長」 and 「IT部長」
match the same criterion and half-width ｶﾅ matches full-width カナ.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from renkei.contacts.models import Industry, LifecycleStage
from renkei.lib.japanese import nfkc, normalize_prefecture

FIELDS = ("industry", "employees", "title", "department", "prefecture", "stage", "property")
KEYWORD_FIELDS = ("title", "department")
LIST_FIELDS = ("industry", "title", "department", "prefecture", "stage")
MAX_WEIGHT = 100

# The contact columns evaluation reads: one row per contact, no other query.
ROW_FIELDS = (
    "id",
    "title",
    "department",
    "prefecture",
    "lifecycle_stage",
    "properties",
    "company__industry",
    "company__employee_count",
    "company__prefecture",
)


def fold(text: Any) -> str:
    """The form text is compared in: NFKC (widths, half-width kana) and case-folded."""
    return nfkc(str(text)).casefold()


class CriterionError(ValidationError):
    """A criterion refused; ``message`` names it (its number and field)."""


def _label(index: int, field: str) -> str:
    return _("Criterion %(number)d (%(field)s)") % {"number": index + 1, "field": field}


def _clean_values(index: int, field: str, values: Any) -> list[str]:
    if not isinstance(values, list) or not [v for v in values if str(v).strip()]:
        raise CriterionError(
            _("%(criterion)s: give at least one value.") % {"criterion": _label(index, field)}
        )
    cleaned = [nfkc(str(v)) for v in values if str(v).strip()]
    allowed: dict[str, Any] = {
        "industry": Industry.values,
        "stage": LifecycleStage.values,
    }
    if field == "prefecture":
        out = []
        for value in cleaned:
            try:
                out.append(normalize_prefecture(value))
            except ValueError:
                raise CriterionError(
                    _("%(criterion)s: unknown prefecture “%(value)s”.")
                    % {"criterion": _label(index, field), "value": value}
                ) from None
        return out
    if field in allowed:
        for value in cleaned:
            if value not in allowed[field]:
                raise CriterionError(
                    _("%(criterion)s: unknown value “%(value)s”; use one of %(choices)s.")
                    % {
                        "criterion": _label(index, field),
                        "value": value,
                        "choices": ", ".join(allowed[field]),
                    }
                )
    return cleaned


def _clean_int(index: int, field: str, name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0 or str(value).strip() != str(number):
        raise CriterionError(
            _("%(criterion)s: %(name)s must be a whole number of 0 or more.")
            % {"criterion": _label(index, field), "name": name}
        )
    return number


def criterion_validate(index: int, raw: Any) -> dict[str, Any]:
    """One criterion, cleaned; raises ``CriterionError`` naming it."""
    if not isinstance(raw, dict):
        raise CriterionError(_("Criterion %(number)d is not an object.") % {"number": index + 1})
    field = str(raw.get("field", ""))
    if field not in FIELDS:
        raise CriterionError(
            _("Criterion %(number)d: unknown field “%(field)s”; use one of %(choices)s.")
            % {"number": index + 1, "field": field, "choices": ", ".join(FIELDS)}
        )
    weight = raw.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
        raise CriterionError(
            _("%(criterion)s: the weight must be a whole number from 1 to 100.")
            % {"criterion": _label(index, field)}
        )
    clean: dict[str, Any] = {"field": field, "weight": weight}
    if field in LIST_FIELDS:
        clean["values"] = _clean_values(index, field, raw.get("values"))
    elif field == "employees":
        low = _clean_int(index, field, _("the minimum"), raw.get("min"))
        high = _clean_int(index, field, _("the maximum"), raw.get("max"))
        if low > high:
            raise CriterionError(
                _("%(criterion)s: the minimum %(min)d is above the maximum %(max)d.")
                % {"criterion": _label(index, field), "min": low, "max": high}
            )
        clean.update(min=low, max=high)
    else:
        key = nfkc(str(raw.get("key", "")))
        if not key:
            raise CriterionError(
                _("%(criterion)s: give the property's key.") % {"criterion": _label(index, field)}
            )
        clean.update(key=key, value=nfkc(str(raw.get("value", ""))))
    return clean


def criteria_validate(raw: Any) -> list[dict[str, Any]]:
    """The whole list, cleaned. Refuses an empty persona. Errors name each criterion."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError(_("A persona needs at least one criterion."))
    errors: list[ValidationError] = []
    clean: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        try:
            clean.append(criterion_validate(index, item))
        except CriterionError as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)
    return clean


# ---- the text format -------------------------------------------------------------------


def criteria_to_text(criteria: list[dict[str, Any]]) -> str:
    """One line per criterion, ``weight | field | operands``: readable and diff-friendly."""
    lines = []
    for c in criteria:
        if c["field"] == "employees":
            operands = f"{c['min']}-{c['max']}"
        elif c["field"] == "property":
            operands = f"{c['key']}={c['value']}"
        else:
            operands = ", ".join(c["values"])
        lines.append(f"{c['weight']} | {c['field']} | {operands}")
    return "\n".join(lines)


def _parse_line(line: str) -> dict[str, Any]:
    parts = [p.strip() for p in nfkc(line).split("|")]
    if len(parts) != 3:
        return {"field": "", "weight": None, "_bad": True}
    weight_text, field, operands = parts
    item: dict[str, Any] = {"field": field}
    item["weight"] = int(weight_text) if weight_text.isdigit() else None
    if field == "employees":
        low, _sep, high = operands.partition("-")
        item.update(min=low.strip(), max=high.strip())
    elif field == "property":
        key, _sep, value = operands.partition("=")
        item.update(key=key.strip(), value=value.strip())
    else:
        # Japanese authors separate with 、 as often as with a comma.
        item["values"] = [v.strip() for v in operands.replace("、", ",").split(",")]
    return item


def criteria_from_text(text: str) -> list[dict[str, Any]]:
    """Parse the text format and validate it; an error names the line (criterion) number."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    items = []
    for number, line in enumerate(lines, start=1):
        item = _parse_line(line)
        if item.pop("_bad", False):
            raise ValidationError(
                _("Criterion %(number)d: write “weight | field | values”.") % {"number": number}
            )
        items.append(item)
    return criteria_validate(items)


# ---- evaluation --------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledCriterion:
    """A criterion with its operands pre-folded, so evaluation is string tests only."""

    field: str
    weight: int
    values: frozenset[str] | tuple[str, ...] = frozenset()
    low: int = 0
    high: int = 0
    key: str = ""
    value: str = ""


def criterion_compile(c: dict[str, Any]) -> CompiledCriterion:
    field = c["field"]
    if field in KEYWORD_FIELDS:
        return CompiledCriterion(field, c["weight"], values=tuple(fold(v) for v in c["values"]))
    if field in LIST_FIELDS:
        return CompiledCriterion(field, c["weight"], values=frozenset(c["values"]))
    if field == "employees":
        return CompiledCriterion(field, c["weight"], low=c["min"], high=c["max"])
    return CompiledCriterion(field, c["weight"], key=c["key"], value=fold(c["value"]))


def row_prepare(row: dict[str, Any]) -> dict[str, Any]:
    """Fold a contact row's free text once, not once per criterion and persona."""
    for field in KEYWORD_FIELDS:
        row[field] = fold(row[field] or "")
    if not isinstance(row["properties"], dict):
        row["properties"] = {}
    return row


def criterion_met(c: CompiledCriterion, row: dict[str, Any]) -> bool:
    """Whether a prepared contact row (``ROW_FIELDS``, ``row_prepare``) meets a criterion."""
    if c.field in KEYWORD_FIELDS:
        text = row[c.field]
        return any(k in text for k in c.values)
    if c.field == "industry":
        return row["company__industry"] in c.values
    if c.field == "stage":
        return row["lifecycle_stage"] in c.values
    if c.field == "prefecture":
        return row["prefecture"] in c.values or row["company__prefecture"] in c.values
    if c.field == "employees":
        count = row["company__employee_count"]
        return count is not None and c.low <= count <= c.high
    props = row["properties"]
    return c.key in props and fold(props[c.key]) == c.value


def _value_key(c: CompiledCriterion, row: dict[str, Any]) -> Any:
    """The part of a prepared row a criterion reads: equal keys give equal answers."""
    if c.field in KEYWORD_FIELDS:
        return row[c.field]
    if c.field == "industry":
        return row["company__industry"]
    if c.field == "stage":
        return row["lifecycle_stage"]
    if c.field == "prefecture":
        return (row["prefecture"], row["company__prefecture"])
    if c.field == "employees":
        return row["company__employee_count"]
    value = row["properties"].get(c.key)
    return None if value is None else fold(value)


def criterion_vector(c: CompiledCriterion, rows: list[dict[str, Any]]) -> "np.ndarray[Any, Any]":
    """Whether each prepared row meets the criterion, as a boolean array.

    Titles, departments, industries and prefectures repeat across contacts, so each distinct
    value is evaluated once and the rest are dictionary look-ups.
    """
    answers: dict[Any, bool] = {}
    out = np.empty(len(rows), dtype=bool)
    for i, row in enumerate(rows):
        key = _value_key(c, row)
        met = answers.get(key)
        if met is None:
            met = answers[key] = criterion_met(c, row)
        out[i] = met
    return out


def fit_of(criteria: list[CompiledCriterion], row: dict[str, Any]) -> int:
    """100 × (weights met) / (all weights), rounded down: an integer 0–100."""
    total = sum(c.weight for c in criteria)
    met = sum(c.weight for c in criteria if criterion_met(c, row))
    return 100 * met // total if total else 0


# ---- wording -----------------------------------------------------------------------------


def _choice_labels(choices: Any, values: list[str]) -> str:
    labels = dict(choices)
    return "、".join(str(labels.get(v, v)) for v in values)


def criterion_describe(c: dict[str, Any]) -> str:
    """A criterion in words a salesperson reads at a glance, e.g. 役職に「部長」を含む."""
    field = c["field"]
    quoted = "・".join(f"「{v}」" for v in c.get("values", []))
    if field == "title":
        return _("Title contains %(keywords)s") % {"keywords": quoted}
    if field == "department":
        return _("Department contains %(keywords)s") % {"keywords": quoted}
    if field == "industry":
        return _("Industry is %(values)s") % {
            "values": _choice_labels(Industry.choices, c["values"])
        }
    if field == "stage":
        return _("Lifecycle stage is %(values)s") % {
            "values": _choice_labels(LifecycleStage.choices, c["values"])
        }
    if field == "prefecture":
        return _("Located in %(values)s") % {"values": "、".join(c["values"])}
    if field == "employees":
        return _("%(min)d to %(max)d employees") % {"min": c["min"], "max": c["max"]}
    return _("Property “%(key)s” is “%(value)s”") % {"key": c["key"], "value": c["value"]}
