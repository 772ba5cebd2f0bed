from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "portico.demo"
    label = "demo"
