from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo workspace generator and its `demo` command; no models."""

    name = "tend.demo"
    label = "demo"
