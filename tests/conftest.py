from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from django_redis import get_redis_connection

from awards.lookups import forget_cached_nominees
from awards.models import AwardStaff, Criterion
from tests.ballots import votes_for
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.integrity.limits import PREFIX as LIMITS_PREFIX
from voting.integrity.limits import limits_reset
from voting.jury.services import scores_save
from voting.standings.pages import forget_page_versions
from voting.standings.services import standings_recompute
from voting.standings.tasks import recent_nudges
from voting.vocabulary import Voter


@pytest.fixture(scope="session", autouse=True)
def plain_http():
    """The test client and live_server speak plain HTTP on 127.0.0.1, as LAUREL_INSECURE_HTTP
    lets a developer's machine do; tests/test_deploy_check.py checks the HTTPS defaults."""
    with override_settings(
        SECURE_SSL_REDIRECT=False,
        SECURE_HSTS_SECONDS=0,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
    ):
        yield


@pytest.fixture(scope="session", autouse=True)
def quick_passwords():
    """Django's advice for test suites: PBKDF2's deliberate cost (0.6 s a hash here) would be
    paid by every organizer the tests create and every login they make; no test is about it."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def collected_static():
    """Real mode serves hashed static files, which exist only after collectstatic, as deployed."""
    if "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]:
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def import_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("imports")


@pytest.fixture(autouse=True)
def imports_kept_apart(settings, import_dir):
    """Imports previewed and never confirmed leave their files behind: in the test run's own
    folder, not the checkout's var/."""
    settings.IMPORT_DIR = import_dir


@pytest.fixture(autouse=True)
def fresh_reads(settings):
    """Tests change awards and nominees between requests; production may read them from memory
    for a few seconds (tests/voting/standings/test_catalogue_cache.py covers that)."""
    settings.CATALOGUE_CACHE_SECONDS = 0
    settings.PAGE_CACHE_SECONDS = 0  # tests/voting/standings/test_page_cache.py turns it on
    settings.PAGE_VERSION_SECONDS = 0  # and covers a process trusting the versions it read
    recent_nudges.clear()
    limits_reset()
    yield
    forget_cached_nominees()
    forget_page_versions()
    limits_reset()


@pytest.fixture(autouse=True)
def empty_cache():
    """Caps, integrity counters and django-ratelimit's counts live in the cache, which outlives
    tests."""
    yield
    try:
        if hasattr(cache, "delete_pattern"):
            cache.delete_pattern("*")  # only Laurel's prefixed keys, not the Celery queues
            client = get_redis_connection("default")
            for key in client.scan_iter(f"{LIMITS_PREFIX}*", count=1000):
                client.delete(key)
        else:
            cache.clear()  # the database cache: django-ratelimit's counts outlive a transaction
    except Exception:
        pass


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


@pytest.fixture
def voter():
    return Voter(key="a" * 32, ip="203.0.113.7", user_agent="Mozilla/5.0 (iPhone)")


@pytest.fixture
def colleague():
    """A second voter behind the same office IP address."""
    return Voter(key="b" * 32, ip="203.0.113.7", user_agent="Mozilla/5.0 (Android)")


@dataclass
class Jury:
    """An award whose voting closed an hour ago, judged by two."""

    award: object
    experts: object
    apps: object
    soren: object
    li: object
    ada: object
    nobody: object
    chatty: object
    expertise: Criterion
    reach: Criterion
    judge: object
    second: object

    def score(self, judge, nominee, expertise: int, reach: int, *, now=None):
        """`judge`'s scores for `nominee`: Expertise out of 10, Reach out of 5."""
        return scores_save(
            award=self.award,
            judge=judge,
            nominee=nominee,
            scores={self.expertise.pk: expertise, self.reach.pk: reach},
            now=now or timezone.now(),
        )

    def score_all(self) -> None:
        """Both judges agree: 李娜 Zhang first, Chatty next, Ada Lovelace, Søren Wójcik last."""
        marks = {self.soren: (2, 1), self.li: (10, 5), self.ada: (5, 3), self.chatty: (6, 3)}
        for judge in (self.judge, self.second):
            for nominee, (expertise, reach) in marks.items():
                self.score(judge, nominee, expertise, reach)


@pytest.fixture
def jury(db, django_user_model):
    now = timezone.now()
    award = AwardFactory(
        name="Small Business Influencer Awards",
        slug="sbia",
        voting_opens=now - timedelta(days=10),
        voting_closes=now - timedelta(hours=1),
        jury_weight_percent=60,
        jury_closes=now + timedelta(days=2),
        finalists_per_category=3,
    )
    experts = CategoryFactory(award=award, name="Experts", slug="experts")
    apps = CategoryFactory(award=award, name="Apps", slug="apps")
    soren = NomineeFactory(category=experts, name="Søren Wójcik", slug="soren-wojcik")
    li = NomineeFactory(category=experts, name="李娜 Zhang", slug="li-na-zhang")
    ada = NomineeFactory(category=experts, name="Ada Lovelace", slug="ada-lovelace")
    nobody = NomineeFactory(category=experts, name="Nobody Yet", slug="nobody-yet")
    chatty = NomineeFactory(category=apps, name="Chatty", slug="chatty")
    for nominee, count in ((soren, 30), (li, 20), (ada, 10), (chatty, 5)):
        votes_for(nominee, count)
    standings_recompute(award_id=award.pk)
    expertise = Criterion.objects.create(award=award, name="Expertise", weight=3, scale=10)
    reach = Criterion.objects.create(award=award, name="Reach", weight=1, scale=5)
    judge = django_user_model.objects.create_user("judge", "judge@example.com", "pw", is_staff=True)
    second = django_user_model.objects.create_user(
        "second", "second@example.com", "pw", is_staff=True
    )
    AwardStaff.objects.create(award=award, user=judge, role=AwardStaff.Role.JUDGE)
    AwardStaff.objects.create(award=award, user=second, role=AwardStaff.Role.JUDGE)
    return Jury(
        award, experts, apps, soren, li, ada, nobody, chatty, expertise, reach, judge, second
    )


def pytest_report_header(config):
    return (
        f"laurel mode: {settings.LAUREL_MODE}, database: {settings.DATABASES['default']['ENGINE']}"
    )


@pytest.fixture(autouse=True)
def signed_in_staff_gave_their_second_factor(monkeypatch):
    """Client.force_login stands for a whole sign-in: for the accounts that need a second
    factor (real mode's superusers and organizers), that too. Giving it is covered by
    tests/awards/test_two_factor.py."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    from awards.two_factor import two_factor_needed

    sign_in = Client.force_login

    def force_login(self, user, backend=None):
        sign_in(self, user, backend)
        if two_factor_needed(user):
            device, _ = StaticDevice.objects.get_or_create(user=user, name="Given in tests")
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
