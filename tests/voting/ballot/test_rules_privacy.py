"""Each award's official rules and privacy notice: public pages linked from every vote page."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from awards.models import Award, Nominee

pytestmark = pytest.mark.django_db


def test_every_vote_page_links_the_rules_and_the_privacy_notice(client, nominee):
    page = client.get(nominee.get_absolute_url())
    assert page.status_code == 200
    assert 'href="/sbia/rules/"' in page.text
    assert 'href="/sbia/privacy/"' in page.text
    assert 'href="/sbia/rules/"' in client.get("/sbia/").text


def test_the_rules_show_what_organizers_wrote_as_plain_text(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(
        rules_eligibility="Nominees must run a small business.\n\n<script>alert(1)</script> "
        "<b>Voters</b> anywhere.",
        rules_ties="Ties share the place.",
        rules_fraud="Bots are void.",
    )
    page = client.get("/sbia/rules/")
    assert page.status_code == 200
    assert "<p>Nominees must run a small business.</p>" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;Voters&lt;/b&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert "Ties share the place." in page.text and "Bots are void." in page.text


def test_the_rules_state_the_vote_rule_and_dates_the_award_enforces(client, nominee):
    closes = timezone.now() + timedelta(days=3)
    Award.objects.filter(pk=nominee.award_id).update(
        vote_scope=Award.Scope.CATEGORY,
        interval_kind=Award.IntervalKind.CALENDAR_DAY,
        time_zone="Europe/Paris",
        voting_closes=closes,
        finalists_per_category=4,
    )
    award = Award.objects.get(pk=nominee.award_id)
    text = client.get("/sbia/rules/").text
    assert "one vote in each category" in text
    assert "per day (the day starts at midnight Europe/Paris time)" in text
    assert f'Voting closes <time datetime="{closes.astimezone(award.zone).isoformat()}' in text
    assert award.local(closes).strftime("%b %-d, %Y") in text
    assert "the top 4" in text
    assert "Experts" in text


def test_the_privacy_notice_says_what_is_kept_and_for_how_long(client, nominee):
    Award.objects.filter(pk=nominee.award_id).update(retention_days=30)
    text = client.get("/sbia/privacy/").text
    assert "laurel_voter" in text and "400 days" in text
    assert "internet address" in text
    assert "user agent" in text
    assert "30 days after voting closes" in text
    assert "reduced to its network" in text


def test_unknown_awards_have_no_rules_or_privacy_page(client, db):
    assert client.get("/nope/rules/").status_code == 404
    assert client.get("/nope/privacy/").status_code == 404


def test_rules_and_privacy_are_reserved_nominee_slugs(nominee):
    for slug in ("rules", "privacy"):
        nominee.slug = slug
        with pytest.raises(ValidationError) as error:
            nominee.full_clean()
        assert "slug" in error.value.message_dict


def test_a_post_to_the_rules_page_is_refused(client, nominee):
    assert client.post("/sbia/rules/").status_code in (403, 405)
    assert Nominee.objects.count() == 1
