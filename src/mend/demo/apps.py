from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "mend.demo"
    label = "demo"
