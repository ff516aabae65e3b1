from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "renkei.imports"
    verbose_name = "Imports"
