"""What a nominee's page offers to share, and what it suggests after a vote.

The share sheet is plain links (no third-party scripts): each channel's link carries its own
`?ref=`, so that a vote it brings back is recorded with that channel.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from django.template.loader import render_to_string

from awards.models import Award, Category, Nominee
from voting.standings.public import PublicStanding

# How many other nominees of the category a voter is offered after a vote.
NEXT_NOMINEES = 3


@dataclass(frozen=True)
class ShareLink:
    ref: str
    label: str
    # "Share on X", "Share by email": the accessible name, which contains the visible label.
    verb: str
    href: str
    # Web links open in a new tab; mailto: and sms: hand over to an app instead.
    external: bool = True


@dataclass(frozen=True)
class ShareKit:
    prompt: str
    # The prefilled message, without the link (each channel adds its own).
    text: str
    subject: str
    links: tuple[ShareLink, ...]
    copy_url: str
    native_url: str
    # "winner" or "finalist" once results are published, else None.
    result: str | None = None


def with_ref(url: str, ref: str) -> str:
    """`url` with its `ref` query parameter set to one channel, other parameters kept."""
    parts = urlsplit(url)
    query = [pair for pair in parts.query.split("&") if pair and not pair.startswith("ref=")]
    query.append(urlencode({"ref": ref}))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(query), parts.fragment))


def _query(**params: str) -> str:
    # %20 for spaces, not "+": mailto: and sms: bodies are not form-encoded (RFC 6068).
    return urlencode(params, quote_via=quote)


def the_award(award: Award) -> str:
    return award.name if award.name.lower().startswith("the ") else f"the {award.name}"


def interval_wording(award: Award) -> str:
    """The award's rule as the vote box words it: "24 hours", "day (the day starts …)"."""
    return render_to_string("voting/ballot/_interval.html", {"award": award}).strip()


def share_kit(
    *, nominee: Nominee, page_url: str, public: PublicStanding, now: datetime
) -> ShareKit:
    award, category = nominee.award, nominee.category
    who = nominee.name + (f" (@{nominee.twitter_handle})" if nominee.twitter_handle else "")
    result = public.result
    if result == "winner":
        prompt = f"Share your win: {nominee.name} won {category.name}."
        text = f"{who} won {category.name} at {the_award(award)}!"
        subject = f"{nominee.name} won {category.name}"
    elif result == "finalist":
        prompt = f"Share your win: {nominee.name} is a finalist in {category.name}."
        text = f"{who} is a finalist in {category.name} at {the_award(award)}!"
        subject = f"{nominee.name} is a finalist in {category.name}"
    elif now >= award.voting_closes:
        published = award.results_published_at is not None and award.results_published_at <= now
        tense = "was" if published else "is"
        prompt = f"Share {nominee.name}'s nomination."
        text = f"{who} {tense} nominated in {category.name} at {the_award(award)}."
        subject = f"{nominee.name} {tense} nominated in {category.name}"
    else:
        prompt = f"Help {nominee.name} win: share this page."
        text = (
            f"Vote for {who} in {category.name} at {the_award(award)}"
            f" — you can vote every {interval_wording(award)}"
        )
        subject = f"Vote for {nominee.name} in {category.name}"

    def link(ref: str) -> str:
        return with_ref(page_url, ref)

    links = (
        ShareLink(
            "x", "X", "Share on", "https://x.com/intent/tweet?" + _query(text=text, url=link("x"))
        ),
        ShareLink(
            "facebook",
            "Facebook",
            "Share on",
            "https://www.facebook.com/sharer/sharer.php?" + _query(u=link("facebook")),
        ),
        ShareLink(
            "linkedin",
            "LinkedIn",
            "Share on",
            "https://www.linkedin.com/sharing/share-offsite/?" + _query(url=link("linkedin")),
        ),
        ShareLink(
            "whatsapp",
            "WhatsApp",
            "Share on",
            "https://wa.me/?" + _query(text=f"{text} {link('whatsapp')}"),
        ),
        ShareLink(
            "email",
            "Email",
            "Share by",
            "mailto:?" + _query(subject=subject, body=f"{text}\n\n{link('email')}"),
            external=False,
        ),
        ShareLink(
            # "sms:?&body=" is the form that both iOS and Android messaging apps read.
            "sms",
            "SMS",
            "Share by",
            "sms:?&" + _query(body=f"{text} {link('sms')}"),
            external=False,
        ),
    )
    return ShareKit(
        prompt=prompt,
        text=text,
        subject=subject,
        links=links,
        copy_url=link("copy"),
        native_url=link("share"),
        result=result,
    )


@dataclass(frozen=True)
class NextSteps:
    # Other nominees the voter may vote for now (the award's rule is per nominee).
    nominees: tuple[Nominee, ...] = ()
    # Other categories the voter may vote in now (the rule is one vote per category).
    categories: tuple[Category, ...] = ()


def next_steps(*, nominee: Nominee) -> NextSteps:
    """Where a voter may vote next after voting for `nominee`, under the award's rule."""
    award = nominee.award
    if award.vote_scope == Award.Scope.NOMINEE:
        # Random rather than alphabetical neighbours: every nominee has the same chance of
        # being suggested, whoever sits next to a popular name.
        others = list(
            Nominee.objects.active()
            .filter(category_id=nominee.category_id)
            .exclude(pk=nominee.pk)
            .order_by("?")[:NEXT_NOMINEES]
        )
        for other in others:
            other.award = award  # get_absolute_url without a query per nominee
        return NextSteps(nominees=tuple(sorted(others, key=lambda other: other.name)))
    if award.vote_scope == Award.Scope.CATEGORY:
        categories = award.categories.exclude(pk=nominee.category_id).order_by(
            "display_order", "name"
        )
        return NextSteps(categories=tuple(categories))
    return NextSteps()
