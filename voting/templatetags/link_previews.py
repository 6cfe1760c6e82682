"""Link previews: the Open Graph and Twitter card tags and the canonical link of every page.

base.html renders {% link_preview %} once; what it says follows the page's URL name and the
objects its view put in the context, so a new page gets sound tags without doing anything.
Standings reach a preview only through voting/standings/public.py, so hidden ones cannot leak here.
"""

from dataclasses import dataclass

from django import template
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from voting.sharing.images import HEIGHT, WIDTH, share_card
from voting.standings.public import public_standing, results_published

register = template.Library()

SITE_NAME = "Laurel"
SITE_DESCRIPTION = "Public voting for influencer awards: one click, no account, no email."
SITE_IMAGE = "img/laurel-card.png"
SITE_IMAGE_ALT = "Laurel: public voting for influencer awards"


@dataclass(frozen=True)
class Preview:
    title: str
    description: str
    # Paths or URLs; made absolute when rendered.
    url: str | None
    image: str
    image_alt: str
    twitter_creator: str = ""


@register.inclusion_tag("voting/sharing/_link_preview.html", takes_context=True)
def link_preview(context: template.Context) -> dict:
    request: HttpRequest | None = context.get("request")
    if request is None:
        return {}
    try:
        request.get_host()
    except DisallowedHost:
        # The 400 page for a forged Host header: there is no trusted origin to build URLs on.
        return {}
    match = request.resolver_match
    build = PREVIEWS.get(match.url_name, _generic) if match else _error
    try:
        preview = build(context, request)
    except KeyError:  # a page of that name without its objects: its 404
        preview = _error(context, request)
    return {
        "site_name": SITE_NAME,
        "preview": preview,
        "url": request.build_absolute_uri(preview.url) if preview.url else "",
        "image": request.build_absolute_uri(preview.image),
        "description": Truncator(preview.description).chars(200),
        # The nominee's share image and the site's card share one size.
        "width": WIDTH,
        "height": HEIGHT,
    }


def _nominee(context: template.Context, request: HttpRequest) -> Preview:
    nominee = context["nominee"]
    award, category = nominee.award, nominee.category.name
    now = context.get("now") or timezone.now()
    public = context.get("public") or public_standing(nominee, now=now)
    card = share_card(nominee, now=now, standing=public)
    # The hash in the query makes platforms that keep images by URL fetch a changed one.
    image = reverse("share-image", args=[award.slug, nominee.slug]) + f"?v={card.version}"
    label = public.label(category)
    if public.result == "winner":
        claim = f"{nominee.name} won {category} at {_the(award.name)}."
    elif public.result == "finalist":
        claim = f"{nominee.name} is a finalist in {category} at {_the(award.name)}."
    elif award.is_open(now):
        claim = f"Vote for {nominee.name} in {category} at {_the(award.name)}."
        if label:
            claim += f" Now {label}."
        claim += " One click, no sign-up."
    else:
        claim = f"{nominee.name} is nominated in {category} at {_the(award.name)}."
    title = f"Vote for {nominee.name}" if award.is_open(now) else f"{nominee.name} · {category}"
    return Preview(
        title=f"{title} · {award.name}",
        description=claim,
        url=nominee.get_absolute_url(),
        image=image,
        image_alt=f"{nominee.name}, nominated in {category} at {_the(award.name)}"
        + (f": {label}" if label else ""),
        twitter_creator=f"@{nominee.twitter_handle}" if nominee.twitter_handle else "",
    )


def _award(context: template.Context, request: HttpRequest) -> Preview:
    award = context["award"]
    if results_published(award, context.get("now") or timezone.now()):
        description = f"The results are in: the winners and finalists of {_the(award.name)}."
    else:
        description = award.description or f"Vote in {_the(award.name)}: one click, no sign-up."
    return _site_image(award.name, description, _listing_url(context, request))


def _category(context: template.Context, request: HttpRequest) -> Preview:
    category, award = context["category"], context["award"]
    description = category.description or (
        f"The nominees in {category.name} at {_the(award.name)}. Find yours and vote."
    )
    return _site_image(
        f"{category.name} · {award.name}", description, _listing_url(context, request)
    )


def _standings(context: template.Context, request: HttpRequest) -> Preview:
    award, category, visibility = context["award"], context.get("category"), context["visibility"]
    where = f" in {category.name}" if category else ""
    if visibility.hidden:
        description = visibility.reason
    elif results_published(award, context.get("now") or timezone.now()):
        description = f"The final standings{where} of {_the(award.name)}."
    else:
        description = f"Who leads{where} at {_the(award.name)}, updated every few seconds."
    title = f"{category.name} standings" if category else "Standings"
    return _site_image(f"{title} · {award.name}", description, _listing_url(context, request))


def _home(context: template.Context, request: HttpRequest) -> Preview:
    return _site_image(SITE_NAME, SITE_DESCRIPTION, request.path)


def _generic(context: template.Context, request: HttpRequest) -> Preview:
    award = context.get("award")
    return _site_image(award.name if award else SITE_NAME, SITE_DESCRIPTION, request.path)


def _error(context: template.Context, request: HttpRequest) -> Preview:
    # A page that is not there is nobody's canonical address.
    return _site_image(SITE_NAME, SITE_DESCRIPTION, None)


def _site_image(title: str, description: str, url: str | None) -> Preview:
    return Preview(title, description, url, static(SITE_IMAGE), SITE_IMAGE_ALT)


def _listing_url(context: template.Context, request: HttpRequest) -> str:
    """The page's own address, keeping only a page number: a list's second page is a page of
    its own, while search results and tracking (?q=, ?ref=) belong to the unfiltered list."""
    number = getattr(context.get("page"), "number", 1)
    if number > 1 and not context.get("query"):
        return f"{request.path}?page={number}"
    return request.path


def _the(name: str) -> str:
    return name if name.lower().startswith("the ") else f"the {name}"


PREVIEWS = {
    "home": _home,
    "award": _award,
    "category": _category,
    "standings": _standings,
    "category-standings": _standings,
    "nominee": _nominee,
    # A vote answered without a redirect shows the nominee's page.
    "vote": _nominee,
}
