from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "servicebook.web"
    label = "web"
    verbose_name = "Web"
