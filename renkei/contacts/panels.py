"""Cards that later apps add to the contact page, without this app importing them.

An app downstream of contacts (personas, journey, scoring …) registers a panel in its
``AppConfig.ready()``: a template and a function giving that template's variables for one
contact. The contact page renders every registered panel, in registration order. The
function runs once per page view, so it must be a cheap, indexed read.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from renkei.contacts.models import Contact


@dataclass(frozen=True)
class ContactPanel:
    name: str
    template: str
    context: Callable[[Contact], dict[str, Any]]


_PANELS: dict[str, ContactPanel] = {}


def contact_panel_register(
    *, name: str, template: str, context: Callable[[Contact], dict[str, Any]]
) -> None:
    """Add (or replace, by name) a card on the contact page."""
    _PANELS[name] = ContactPanel(name=name, template=template, context=context)


def contact_panels(contact: Contact) -> tuple[list[str], dict[str, Any]]:
    """The templates to include, and the variables they need (merged into the page's)."""
    templates: list[str] = []
    variables: dict[str, Any] = {}
    for panel in _PANELS.values():
        templates.append(panel.template)
        variables.update(panel.context(contact))
    return templates, variables
