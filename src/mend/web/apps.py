from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "mend.web"
    label = "web"
