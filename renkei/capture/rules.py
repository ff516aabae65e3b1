"""The rules of web forms, shared by the marketer's pages, the services and the public
endpoints: where an answer may be stored, how long it may be, which redirects and
origins are allowed.

Kept apart from ``services`` so the HTML forms can show each problem next to the field
it concerns before anything is written.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from renkei.capture.models import FieldType
from renkei.lib import japanese as ja

PROPERTY_PREFIX = "property:"
PROPERTY_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_FIELDS = 50
MAX_OPTIONS = 200
URL_MAX = 2000

# target → (label, longest accepted answer). The lengths are the stored columns' limits.
CONTACT_TARGETS = {
    "email": (gettext_lazy("Email"), 254),
    "family_name": (gettext_lazy("Family name"), 100),
    "given_name": (gettext_lazy("Given name"), 100),
    "family_name_kana": (gettext_lazy("Family name (kana)"), 100),
    "given_name_kana": (gettext_lazy("Given name (kana)"), 100),
    "department": (gettext_lazy("Department"), 200),
    "title": (gettext_lazy("Title"), 200),
    "phone": (gettext_lazy("Phone"), 32),
    "prefecture": (gettext_lazy("Prefecture"), 32),
}
COMPANY_TARGETS = {
    "company_name": (gettext_lazy("Company name"), 200),
    "company_name_kana": (gettext_lazy("Company name (kana)"), 200),
    "company_domain": (gettext_lazy("Company domain"), 200),
    "company_phone": (gettext_lazy("Company phone"), 32),
    "company_prefecture": (gettext_lazy("Company prefecture"), 32),
    "company_address": (gettext_lazy("Company address"), 300),
}
PHONE_TARGETS = ("phone", "company_phone")
PREFECTURE_TARGETS = ("prefecture", "company_prefecture")
# Custom properties: a line of text or a longer message.
PROPERTY_MAX: dict[str, int] = {FieldType.TEXTAREA: 5000}
PROPERTY_DEFAULT_MAX = 500


@dataclass(frozen=True)
class FieldSpec:
    """A form field as the marketer defines it (see ``models.FormField``)."""

    label_ja: str
    type: str
    target: str
    label_en: str = ""
    required: bool = False
    options: str = ""


def property_key(target: str) -> str:
    """The custom property a target names ("property:budget" → "budget"), else ""."""
    return target[len(PROPERTY_PREFIX) :] if target.startswith(PROPERTY_PREFIX) else ""


def answer_max_length(target: str, field_type: str) -> int:
    """The longest answer a field accepts: its column's limit, or the property limit."""
    if target in CONTACT_TARGETS:
        return CONTACT_TARGETS[target][1]
    if target in COMPANY_TARGETS:
        return COMPANY_TARGETS[target][1]
    return PROPERTY_MAX.get(field_type, PROPERTY_DEFAULT_MAX)


def target_problem(target: str, field_type: str) -> str:
    """Why a field of ``field_type`` cannot store into ``target`` ("" when it can)."""
    key = property_key(target)
    if target.startswith(PROPERTY_PREFIX) and not PROPERTY_KEY.match(key):
        return _(
            "A custom property key is 1-64 lower-case letters, digits or underscores, "
            "starting with a letter."
        )
    if not key and target not in CONTACT_TARGETS and target not in COMPANY_TARGETS:
        return _("Unknown target %(target)s.") % {"target": repr(target)}
    if (target == "email") != (field_type == FieldType.EMAIL):
        return _("The email address is stored from exactly one field of type Email.")
    if field_type == FieldType.CHECKBOX and not key:
        return _("A checkbox can only be stored in a custom property.")
    return ""


def _row_problems(spec: FieldSpec) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not spec.label_ja.strip():
        problems["label_ja"] = _("Enter a label.")
    elif len(spec.label_ja) > 200:
        problems["label_ja"] = _("At most %(count)d characters.") % {"count": 200}
    if len(spec.label_en) > 200:
        problems["label_en"] = _("At most %(count)d characters.") % {"count": 200}
    if spec.type not in FieldType.values:
        problems["type"] = _("Unknown field type %(type)s.") % {"type": repr(spec.type)}
    elif problem := target_problem(spec.target, spec.type):
        problems["target"] = problem
    if spec.type == FieldType.SELECT and (problem := options_problem(spec.options)):
        problems["options"] = problem
    return problems


def options_problem(options: str) -> str:
    """Why a choice list's options are unusable ("" when they are fine)."""
    values = [line.split("|")[0].strip() for line in options.splitlines()]
    values = [value for value in values if value]
    if not values:
        return _("A choice list needs at least one option, one per line.")
    if len(values) > MAX_OPTIONS:
        return _("At most %(count)d options.") % {"count": MAX_OPTIONS}
    if len(set(values)) != len(values):
        return _("Each option value may appear only once.")
    if any(len(value) > 200 for value in values):
        return _("An option value is at most %(count)d characters.") % {"count": 200}
    return ""


def field_problems(specs: Sequence[FieldSpec]) -> tuple[dict[int, dict[str, str]], list[str]]:
    """Problems of a form's fields: per row (row index → field → message) and for the
    whole list (no email field, too many fields)."""
    rows: dict[int, dict[str, str]] = {}
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        problems = _row_problems(spec)
        if "target" not in problems and spec.target in seen:
            problems["target"] = _("Another field is already stored there.")
        seen.add(spec.target)
        if problems:
            rows[index] = problems
    overall = []
    if "email" not in seen:
        overall.append(_("Every form needs an email field (type Email, stored in Email)."))
    if len(specs) > MAX_FIELDS:
        overall.append(_("A form has at most %(count)d fields.") % {"count": MAX_FIELDS})
    return rows, overall


# ---- redirects and origins ------------------------------------------------------------


def _idna(host: str) -> str:
    """A host name in its ASCII (punycode) form, lower case; "" when it is not one."""
    try:
        return host.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return ""


def redirect_host(url: str) -> str:
    """The host of a redirect URL when it is a plain absolute http(s) URL, else "".

    Refuses what browsers read differently from Python (backslashes, spaces, control
    characters, user-info before an "@"), so the host checked is the host visited.
    """
    if not url or len(url) > URL_MAX or any(c == "\\" or ord(c) <= 32 for c in url):
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a bad port
    except ValueError:
        return ""
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return ""
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={parts.netloc}):
        return ""
    return _idna(parts.hostname)


def redirect_allowed(url: str, domains: Sequence[str]) -> bool:
    """True when ``url`` is an absolute http(s) URL on one of ``domains`` or a subdomain."""
    host = redirect_host(url)
    if not host:
        return False
    for domain in domains:
        allowed = _idna(domain)
        if allowed and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


def clean_redirect_domain(value: str) -> str:
    """An admin's redirect domain as stored (lower case, no scheme, no "www." kept as
    typed); ValueError with the reason when it is not a domain name."""
    text = ja.nfkc(value).strip().lower().removeprefix("*.").strip(".")
    if "://" in text:
        text = urlsplit(text).hostname or ""
    if not re.fullmatch(
        r"(?!-)[a-z0-9\u00a1-\uffff-]{1,63}(\.(?!-)[a-z0-9\u00a1-\uffff-]{1,63})+", text
    ):
        raise ValueError(_("%(value)s is not a domain name.") % {"value": repr(value.strip())})
    return text


def clean_origin(value: str) -> str:
    """An admin's allowed origin as browsers send it (scheme://host[:port], lower case,
    no path); ValueError with the reason when it is not one."""
    text = value.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (ValueError for a bad port)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            _("%(value)s is not an origin like https://www.example.co.jp.")
            % {"value": repr(value.strip())}
        )
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def origin_allowed(origin: str, origins: Sequence[str]) -> bool:
    """True when a request's Origin header names one of ``origins`` (compared as
    browsers send it: scheme://host[:port], no trailing slash)."""
    origin = origin.strip().rstrip("/").lower()
    return bool(origin) and origin != "null" and origin in {o.rstrip("/").lower() for o in origins}
