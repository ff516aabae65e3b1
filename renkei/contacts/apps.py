from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _search_index_ensure(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from renkei.contacts.search import fts_ensure

    fts_ensure(connections[using])


class ContactsConfig(AppConfig):
    name = "renkei.contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        # A migration that rebuilds contacts_contact on SQLite drops the search triggers.
        post_migrate.connect(_search_index_ensure, sender=self, dispatch_uid="contacts.fts")
