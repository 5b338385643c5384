from django.apps import AppConfig


class SummaryConfig(AppConfig):
    name = "tend.summary"
    label = "summary"
    verbose_name = "Summary"
