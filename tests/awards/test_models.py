from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from awards.models import Award
from tests.factories import AwardFactory, CategoryFactory, NomineeFactory

pytestmark = pytest.mark.django_db


def test_nominee_slug_is_unique_within_an_award(nominee):
    with pytest.raises(IntegrityError), transaction.atomic():
        NomineeFactory(category=nominee.category, slug=nominee.slug)


def test_the_same_slug_may_be_used_in_another_award(nominee):
    other = NomineeFactory(slug=nominee.slug)
    assert other.award != nominee.award


def test_category_slug_is_unique_within_an_award(experts):
    with pytest.raises(IntegrityError), transaction.atomic():
        CategoryFactory(award=experts.award, slug="experts")


def test_award_must_close_after_it_opens(award):
    with pytest.raises(IntegrityError), transaction.atomic():
        Award.objects.filter(pk=award.pk).update(voting_closes=award.voting_opens)


def test_award_rejects_an_unknown_time_zone():
    award = AwardFactory.build(time_zone="Pacific/Atlantis")
    with pytest.raises(ValidationError) as error:
        award.full_clean()
    assert "time_zone" in error.value.message_dict


def test_nominee_slug_may_not_take_a_reserved_word(experts):
    nominee = NomineeFactory.build(category=experts, award=experts.award, slug="categories")
    with pytest.raises(ValidationError) as error:
        nominee.full_clean()
    assert "slug" in error.value.message_dict


def test_nominee_category_must_belong_to_its_award(nominee):
    foreign = CategoryFactory()
    nominee.category = foreign
    with pytest.raises(ValidationError) as error:
        nominee.full_clean()
    assert "category" in error.value.message_dict


def test_award_is_open_between_opens_and_closes(award):
    assert award.is_open(award.voting_opens)
    assert not award.is_open(award.voting_closes)
    assert not award.is_open(award.voting_opens - timedelta(seconds=1))


def test_closing_time_reads_in_the_awards_zone(award):
    award.voting_closes = award.voting_closes.replace(hour=6, minute=59, second=0, microsecond=0)
    local = award.local(award.voting_closes)
    assert local.tzinfo.key == "America/Los_Angeles"
    assert local.hour in (22, 23)  # 06:59 UTC is 11:59 pm PDT or 10:59 pm PST


@pytest.mark.parametrize(
    ("name", "initials"), [("Ada Lovelace", "AL"), ("cher", "C"), ("Bright Ledger HQ", "BL")]
)
def test_initials_stand_in_for_a_missing_photo(name, initials):
    assert NomineeFactory.build(name=name).initials == initials
