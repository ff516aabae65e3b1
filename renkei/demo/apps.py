from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "renkei.demo"
    verbose_name = "Demo data"
