"""Texts shown for tracked events on the contact timeline, so that ``makemessages`` run in
this app puts them in its catalogue: ``contacts/_timeline_items.html`` and
``events/selectors.py`` display them, but those files are outside this app's folder."""

from django.utils.translation import gettext_noop

TIMELINE_TEXTS = (
    gettext_noop("Link click"),
    gettext_noop("Page"),
    gettext_noop("Referrer"),
    gettext_noop("Stitched from anonymous visitor"),
    gettext_noop("Visitor"),
)
