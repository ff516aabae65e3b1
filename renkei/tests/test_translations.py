"""Every Japanese catalogue is complete and compiled: no fuzzy or empty translations,
and the committed .mo says what the .po says (a stale .mo shows English to users)."""

import ast
import gettext
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("renkei/**/locale/ja/LC_MESSAGES/django.po"))


def _entries(po: Path) -> list[dict[str, object]]:
    """The .po's live entries: msgid, msgid_plural, msgstr (list), flags."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    key = ""
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {}, ""
        elif line.startswith("#,"):
            entry["flags"] = {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue  # comments, references, previous (#|) and obsolete (#~) entries
        elif line.startswith('"'):
            entry[key] = str(entry[key]) + ast.literal_eval(line)
        else:
            key, _, text = line.partition(" ")
            entry[key] = ast.literal_eval(text)
    return entries


def test_there_are_catalogues_for_the_project_and_the_apps() -> None:
    names = {po.relative_to(ROOT).parts[1] for po in CATALOGUES}
    assert {"locale", "capture", "contacts", "imports", "tracking"} <= names


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_is_translated_and_compiled(po: Path) -> None:
    compiled = gettext.GNUTranslations(po.with_suffix(".mo").open("rb"))
    assert "nplurals=1" in compiled.info().get("plural-forms", "")  # a fuzzy header drops it
    for entry in _entries(po):
        msgid = str(entry["msgid"])
        if not msgid:
            continue  # the header
        assert "fuzzy" not in entry.get("flags", set()), msgid  # type: ignore[operator]
        if "msgid_plural" in entry:
            assert "msgstr[1]" not in entry, f"{msgid}: Japanese has one plural form"
            translated = str(entry["msgstr[0]"])
            assert translated, msgid
            assert compiled.ngettext(msgid, str(entry["msgid_plural"]), 2) == translated
        else:
            translated = str(entry["msgstr"])
            assert translated, msgid
            found = (
                compiled.pgettext(str(entry["msgctxt"]), msgid)
                if "msgctxt" in entry
                else compiled.gettext(msgid)
            )
            assert found == translated, f"{msgid}: the .mo is stale"
