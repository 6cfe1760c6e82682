from django.apps import AppConfig


class AwardsConfig(AppConfig):
    name = "awards"
    verbose_name = "Awards catalogue"

    def ready(self) -> None:
        from awards import lookups  # noqa: F401 - cached pages forget an edited catalogue
