"""What a nominee needs to ask for votes: the vote link, the badge and its embed code, the QR
code, and share texts ready to paste. The private toolkit page (voting/sharing/stats_views.py)
shows all of it; the organizers' mail-merge CSV (voting/organizers/exports.py) lists the links.

Every URL is absolute, since each one is pasted somewhere else: a site, a post, a letter.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from awards.models import Nominee
from voting.sharing.sheet import interval_wording, share_kit, the_award, with_ref
from voting.standings.public import PublicStanding

# Turns a path into an absolute URL: HttpRequest.build_absolute_uri, as a rule.
Absolute = Callable[[str], str]


@dataclass(frozen=True)
class NomineeLinks:
    vote_url: str
    badge_svg_url: str
    badge_png_url: str
    qr_svg_url: str
    qr_png_url: str


@dataclass(frozen=True)
class ShareText:
    # The ?ref= its link carries, so that the stats show which text brought the votes.
    channel: str
    label: str
    text: str


def nominee_links(*, nominee: Nominee, absolute: Absolute) -> NomineeLinks:
    def url(name: str) -> str:
        return absolute(reverse(name, args=[nominee.award.slug, nominee.slug]))

    return NomineeLinks(
        vote_url=absolute(nominee.get_absolute_url()),
        badge_svg_url=url("badge-svg"),
        badge_png_url=url("badge-png"),
        qr_svg_url=url("qr-svg"),
        qr_png_url=url("qr-png"),
    )


def badge_alt(nominee: Nominee) -> str:
    return f"Vote for {nominee.name} in {nominee.category.name} at {nominee.award.name}"


def badge_embed_html(*, nominee: Nominee, links: NomineeLinks) -> str:
    """The HTML a nominee pastes into their site: the badge, linking to the vote page with
    ?ref=badge. Escaped once here; a template shows it escaped again, as text."""
    return format_html(
        '<a href="{}"><img src="{}" alt="{}" width="320" height="100"></a>',
        with_ref(links.vote_url, "badge"),
        links.badge_svg_url,
        badge_alt(nominee),
    )


def share_texts(
    *, nominee: Nominee, vote_url: str, public: PublicStanding, now: datetime
) -> tuple[ShareText, ...]:
    """Posts and messages in the nominee's own voice, each with the vote link and a channel."""
    award, category = nominee.award, nominee.category
    if now >= award.voting_closes:
        # Nothing left to ask for: the share sheet's words for a nomination or a result.
        kit = share_kit(nominee=nominee, page_url=vote_url, public=public, now=now)
        short = post = message = kit.text
    else:
        where = f"{category.name} at {the_award(award)}"
        every = f"you can vote once every {interval_wording(award)}"
        if now < award.voting_opens:
            opens = date_format(award.local(award.voting_opens), "j F")
            when = f"Voting opens on {opens}, and {every}"
        else:
            closes = date_format(award.local(award.voting_closes), "j F")
            when = f"Voting is open until {closes}, and {every}"
        short = f"I'm nominated in {where}! Vote for me:"
        post = f"I'm honoured to be nominated in {where}. {when}. One click, no account:"
        message = f"Hi! I'm nominated in {where}. Would you vote for me? It takes one click:"
    return (
        ShareText("x", "For X, Threads or Bluesky", f"{short} {with_ref(vote_url, 'x')}"),
        ShareText(
            "linkedin", "For LinkedIn or Facebook", f"{post} {with_ref(vote_url, 'linkedin')}"
        ),
        ShareText(
            "message",
            "For email, WhatsApp or a text message",
            f"{message} {with_ref(vote_url, 'message')}",
        ),
    )
