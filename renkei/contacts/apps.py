from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "renkei.contacts"
    verbose_name = "Contacts"
