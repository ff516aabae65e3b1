from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "renkei.scoring"
    verbose_name = "Scoring"
