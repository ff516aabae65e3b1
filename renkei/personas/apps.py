from django.apps import AppConfig


class PersonasConfig(AppConfig):
    name = "renkei.personas"
    verbose_name = "Personas"
