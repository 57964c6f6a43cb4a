from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "mend.clinics"
    label = "clinics"
