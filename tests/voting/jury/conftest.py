"""An award whose voting closed an hour ago, with a jury of one (and a second in reserve)."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from awards.models import AwardStaff, Criterion
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory
from voting.models import TallyDelta, Vote
from voting.standings.services import standings_recompute


def votes_for(nominee, count: int, *, status=Vote.Status.COUNTED) -> None:
    at = nominee.award.voting_closes - timedelta(hours=2)
    Vote.objects.bulk_create(
        Vote(
            award=nominee.award,
            nominee=nominee,
            category=nominee.category,
            created_at=at,
            voter_key=f"{nominee.pk}-{status}-{n}",
            ip=f"198.51.{nominee.pk % 250}.{n % 250}",
            status=status,
        )
        for n in range(count)
    )
    if status == Vote.Status.COUNTED:
        TallyDelta.objects.create(award=nominee.award, nominee=nominee, amount=count)


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
