"""The cast shared by the voting tests: a crowd of nominees for the integrity tests, and an
award whose voting closed an hour ago with a jury of two for the jury and results tests."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from awards.models import AwardStaff, Criterion
from tests.ballots import votes_for
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.standings.services import standings_recompute


@pytest.fixture
def cluster_holds_run_at_once():
    """In real mode a worker runs cluster holds; here they run in the test's process, as in
    embedded mode, so that a test sees them without a worker."""
    from laurel.celery import app

    # Celery reads Django's settings under the CELERY_ namespace, whose name wins.
    eager = app.conf.task_always_eager
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    assert app.conf.task_always_eager
    yield
    app.conf.CELERY_TASK_ALWAYS_EAGER = eager


@pytest.fixture
def field(nominee):
    """The target and fifteen other nominees in the same category."""
    return [nominee, *NomineeFactory.create_batch(15, category=nominee.category)]


@dataclass
class Jury:
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
