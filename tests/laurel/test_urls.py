"""The public pages come first in the URLconf; reserved words still reach their own pages."""

import pytest
from django.conf import settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from awards.models import RESERVED_AWARD_SLUGS, RESERVED_NOMINEE_SLUGS


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"/{settings.ADMIN_URL}", "index"),
        (f"/{settings.ADMIN_URL}integrity/7/", "integrity-review"),
        (f"/{settings.ADMIN_URL}awards/nominee/", "awards_nominee_changelist"),
        ("/api/sbia-2012/standings/", "standings-api"),
        ("/api/sbia-2012/standings/experts/", "category-standings-api"),
        ("/api/sbia-2012/nominees/ada/", "nominee-api"),
        ("/sbia-2012/", "award"),
        ("/sbia-2012/ada/", "nominee"),
        ("/sbia-2012/standings/", "standings"),
        ("/sbia-2012/standings/experts/", "category-standings"),
        ("/sbia-2012/standings/vote/", "category-standings"),
        ("/sbia-2012/categories/experts/", "category"),
        ("/sbia-2012/categories/vote/", "category"),
        ("/sbia-2012/rules/", "rules"),
        ("/sbia-2012/privacy/", "privacy"),
        ("/sbia-2012/ada/vote/", "vote"),
        ("/sbia-2012/ada/badge.svg", "badge-svg"),
        ("/sbia-2012/ada/stats/abc/", "nominee-stats"),
        ("/healthz", "healthz"),
        ("/metrics", "metrics"),
    ],
)
def test_each_path_reaches_its_own_page_although_award_pages_come_first(path, name):
    assert resolve(path).url_name == name


@pytest.mark.parametrize("word", sorted(RESERVED_AWARD_SLUGS - {"favicon.ico"}))
def test_a_reserved_word_is_never_taken_for_an_award(word):
    for path in (f"/{word}/", f"/{word}/ada/", f"/{word}/ada/vote/"):
        match = resolve_or_none(path)
        assert match is None or "award_slug" not in match.kwargs, (path, match)


@pytest.mark.parametrize("word", sorted(RESERVED_NOMINEE_SLUGS))
def test_a_reserved_word_is_never_taken_for_a_nominee(word):
    for path in (f"/sbia-2012/{word}/", f"/sbia-2012/{word}/vote/"):
        match = resolve_or_none(path)
        assert match is None or "nominee_slug" not in match.kwargs, (path, match)


def test_the_busiest_pages_are_tried_before_the_admin():
    # Resolution tries patterns in order on every request; the admin's includes each raise and
    # catch a Resolver404 for a path they do not take.
    patterns = get_resolver().url_patterns
    first_include = next(i for i, p in enumerate(patterns) if isinstance(p, URLResolver))
    names = [p.name for p in patterns[:first_include] if isinstance(p, URLPattern)]
    for busy in ("award", "nominee", "vote", "standings", "standings-api"):
        assert busy in names


def resolve_or_none(path):
    try:
        return resolve(path)
    except Resolver404:
        return None


def test_admin_pages_name_the_site_icon_and_favicon_ico_leads_to_it(client, organizer):
    client.force_login(organizer)
    page = client.get(reverse("admin:index")).text
    assert 'rel="icon"' in page and "favicon" in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301
    assert client.get(icon["Location"]).status_code == 200
