from django.apps import AppConfig


class VotingConfig(AppConfig):
    name = "voting"
    verbose_name = "Voting"

    def ready(self) -> None:
        from laurel.lib import checks  # noqa: F401 - registers the system checks
        from voting.organizers import audit  # noqa: F401 - records organizers' catalogue actions
