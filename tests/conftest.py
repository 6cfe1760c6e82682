import pytest
from django.conf import settings
from django.core.management import call_command

from tests.factories import AwardFactory, CategoryFactory, NomineeFactory


@pytest.fixture(scope="session", autouse=True)
def collected_static():
    """Real mode serves hashed static files, which exist only after collectstatic, as deployed."""
    if "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]:
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture
def award(db):
    return AwardFactory(name="Small Business Influencer Awards", slug="sbia")


@pytest.fixture
def experts(award):
    return CategoryFactory(award=award, name="Experts", slug="experts")


@pytest.fixture
def nominee(experts):
    return NomineeFactory(category=experts, name="Ada Lovelace", slug="ada-lovelace")


@pytest.fixture
def organizer(db, django_user_model):
    return django_user_model.objects.create_superuser(
        "organizer", "org@example.com", "pw-organizer"
    )


def pytest_report_header(config):
    return (
        f"laurel mode: {settings.LAUREL_MODE}, database: {settings.DATABASES['default']['ENGINE']}"
    )
