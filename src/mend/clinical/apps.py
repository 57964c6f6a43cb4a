from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "mend.clinical"
    label = "clinical"
    verbose_name = "Clinical record"
