"""Input normalisation and validation: every value is cleaned here before it is stored.

Japanese text is NFKC-normalised; names, kana, phones and prefectures go through
``renkei.lib.japanese``. A bad value becomes a ValidationError keyed by its field.
"""

import math
import re
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from renkei.contacts.models import Industry
from renkei.lib import japanese as ja

PROPERTIES_MAX_BYTES = 65_536
_INT_BOUND = 2**31 - 1  # IntegerField on PostgreSQL


def _text(value: Any, max_length: int) -> str:
    """NFKC, trimmed, without NUL (PostgreSQL refuses it), at most ``max_length`` long."""
    text = ja.nfkc(str(value)).replace("\x00", "") if value is not None else ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_("not valid Unicode (lone surrogate)")) from None
    if len(text) > max_length:
        raise ValueError(_("at most %(count)d characters") % {"count": max_length})
    return text


def _field_text(value: Any, field: str, max_length: int) -> str:
    """``_text`` for a single argument: a ValidationError that names the field."""
    try:
        return _text(value, max_length)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None


def _json_clean(value: Any, depth: int = 0) -> Any:
    """A JSON value every database stores: finite numbers, no NUL, not absurdly deep."""
    if depth > 32:
        raise ValueError(_("nested too deeply (at most 32 levels)"))
    if isinstance(value, dict):
        return {_text(k, 200): _json_clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_clean(v, depth + 1) for v in value]
    if isinstance(value, str):
        return _text(value, PROPERTIES_MAX_BYTES)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(_("numbers must be finite"))
    if value is None or isinstance(value, bool | int | float):
        return value
    raise ValueError(_("not a JSON value: %(type)s") % {"type": type(value).__name__})


def _clean_properties(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(_("must be an object"))
    clean = _json_clean(value)
    if len(orjson.dumps(clean, option=orjson.OPT_NON_STR_KEYS)) > PROPERTIES_MAX_BYTES:
        raise ValueError(_("at most %(count)d bytes of JSON") % {"count": PROPERTIES_MAX_BYTES})
    return clean


def _clean_int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValueError(_("must be an integer"))
    number = int(value)  # ValueError for "abc", OverflowError for inf
    if not low <= number <= high:
        raise ValueError(_("must be between %(low)d and %(high)d") % {"low": low, "high": high})
    return number


def _clean_contact_data(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise incoming contact fields; a ValidationError names every bad field."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, value in data.items():
        try:
            if field in ("family_name", "given_name"):
                clean[field] = ja.normalize_person_name(_text(value, 100))
            elif field in ("family_name_kana", "given_name_kana"):
                clean[field] = ja.normalize_kana(_text(value, 100))
                if len(clean[field]) > 100:
                    raise ValueError(_("at most %(count)d characters") % {"count": 100})
            elif field in ("department", "title"):
                clean[field] = _text(value, 200)
            elif field == "source":
                clean[field] = _text(value, 64)
            elif field == "phone":
                clean[field] = ja.parse_phone(_text(value, 64))
            elif field == "prefecture":
                clean[field] = ja.normalize_prefecture(_text(value, 32))
            elif field == "email":
                clean[field] = _clean_email(value)
            elif field == "properties":
                clean[field] = _clean_properties(value)
            elif field == "company_id":
                clean[field] = None if value is None else _clean_int(value, 1, 2**63 - 1)
            elif field in ("company", "lifecycle_stage"):
                clean[field] = value
            else:
                raise ValueError(_("unknown field"))
        except ValidationError as exc:
            errors.update({k: "; ".join(v) for k, v in exc.message_dict.items()})
        except (ValueError, TypeError, OverflowError) as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_email(value: Any) -> str:
    try:
        email = _text(value, 254).replace(" ", "").replace("\u3000", "")
        validate_email(email)
    except (ValidationError, ValueError):
        raise ValidationError(
            {"email": _("not a valid email address: %(value)s") % {"value": repr(value)}}
        ) from None
    return email


def _clean_company_data(data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, value in data.items():
        try:
            if field in ("name", "name_kana", "address"):
                clean[field] = _text(value, 300 if field == "address" else 200)
                if field == "name_kana":
                    clean[field] = ja.normalize_kana(clean[field])
                    if len(clean[field]) > 200:
                        raise ValueError(_("at most %(count)d characters") % {"count": 200})
            elif field == "domain":
                clean[field] = ja.normalize_domain(_text(value, 200))
                if clean[field] and not _is_domain(clean[field]):
                    raise ValueError(
                        _("not a domain name: %(value)s") % {"value": repr(clean[field])}
                    )
            elif field == "industry":
                clean[field] = _text(value, 32)
            elif field == "employee_count":
                clean[field] = None if value in (None, "") else _clean_int(value, 0, _INT_BOUND)
            elif field == "prefecture":
                clean[field] = ja.normalize_prefecture(_text(value, 32))
            elif field == "phone":
                clean[field] = ja.parse_phone(_text(value, 64))
            else:
                raise ValueError(_("unknown field"))
        except (ValueError, TypeError, OverflowError) as exc:
            errors[field] = str(exc)
    if clean.get("industry") and clean["industry"] not in Industry.values:
        errors["industry"] = _("unknown industry %(value)s; one of %(choices)s") % {
            "value": repr(clean["industry"]),
            "choices": Industry.values,
        }
    if "name" in clean and not clean["name"]:
        errors["name"] = _("required")
    if errors:
        raise ValidationError(errors)
    return clean


# A DNS label: letters (any script, for IDN domains such as 例え.jp), digits, inner hyphens.
_LABEL = re.compile(r"^(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(?<!-)$")


def _is_domain(value: str) -> bool:
    labels = value.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)
