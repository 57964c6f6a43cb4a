from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "mend.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
