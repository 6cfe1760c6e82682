"""CSV exports for organizers: the results they publish, the audit trail of every vote, and
each nominee's links for a mail merge.

They stream: rows are written as they are read, a page of votes at a time, so an award with a
million votes exports in the memory of one page.
"""

import csv
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from functools import lru_cache

from django.db.models import Count
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from awards.models import Award, Nominee
from awards.roles import ORGANIZER, award_for_user_or_404
from awards.stats_links import stats_path
from laurel.lib.hashing import keyed_hash
from laurel.lib.net import network_of
from voting.jury.services import jury_scores, score_sheet
from voting.models import Vote
from voting.organizers.publication import award_blend
from voting.organizers.views import organizer_access
from voting.sharing.toolkit import Absolute, nominee_links
from voting.standings.results import out_of_100, published_marks

VOTES_PER_PAGE = 2000
RESULTS_HEADER = [
    "scope",
    "rank",
    "nominee",
    "slug",
    "category",
    "counted votes",
    "held for review",
    "void",
    "status",
]
# With a jury, per finalist in its category's rows: the judges who scored it, the jury's mean
# score and the blend, each out of 100 (voting/jury/blend.py), and their ranks in the category.
JURY_HEADER = ["judges", "jury_score", "jury_rank", "blended_score", "blended_rank"]
AUDIT_HEADER = [
    "vote",
    "time",
    "nominee",
    "category",
    "channel",
    "status",
    "reasons",
    "browser check",
    "voter",
    "address",
]
LINKS_HEADER = ["name", "category", "vote link", "toolkit link", "badge embed URL"]
# Excel, and Word's mail merge through it, read a CSV without a byte order mark in the
# machine's legacy code page, which garbles "Søren Wójcik" and "李娜". A BOM makes it UTF-8.
BOM = "\ufeff"


class _Echo:
    """csv.writer's file: hands each written line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


# A cell starting with one of these is a formula to a spreadsheet: a nominee named
# "=HYPERLINK(...)" would run in the organizer's Excel. A leading apostrophe makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """Text a spreadsheet shows as written; numbers and dates as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _csv_response(
    rows: Iterable[list], file_name: str, *, bom: bool = False
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = (writer.writerow([spreadsheet_safe(cell) for cell in row]) for row in rows)
    if bom:
        lines = itertools.chain([BOM], lines)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "no-store"
    return response


def _competition_ranks(counts: list[tuple[Nominee, int]]) -> list[tuple[int, Nominee, int]]:
    """Standard competition ranks (1, 2, 2, 4) by counted votes, then name for the order."""
    ordered = sorted(counts, key=lambda item: (-item[1], item[0].name.lower(), item[0].pk))
    ranked, rank = [], 0
    for position, (nominee, votes) in enumerate(ordered, 1):
        if position == 1 or votes != ranked[-1][2]:
            rank = position
        ranked.append((rank, nominee, votes))
    return ranked


def results_rows(award: Award) -> Iterator[list]:
    """Overall, then each category: counted votes straight from the votes, as of now."""
    tally = defaultdict(dict)
    by_status = (
        Vote.objects.filter(award=award)
        .values_list("nominee_id", "status")
        .annotate(votes=Count("id"))  # vote_award_status_nominee answers this from the index
        .order_by()
    )
    for nominee_id, status, votes in by_status:
        tally[nominee_id][status] = votes
    nominees = list(Nominee.objects.filter(award=award).select_related("category"))
    marks = published_marks(award)
    jury = jury_scores(award) if award.has_jury else None
    blend = award_blend(award, jury)
    sheet = score_sheet(award, jury) if jury else None
    judges = sheet.judges if sheet else []
    yield (
        RESULTS_HEADER
        + (JURY_HEADER if award.has_jury else [])
        + [f"judge {judge.get_username()}" for judge in judges]
    )

    def jury_cells(nominee: Nominee, scope: str) -> list:
        if not award.has_jury:
            return []
        place = blend.get(nominee.pk) if scope != "overall" else None
        if place is None:
            return [""] * (len(JURY_HEADER) + len(judges))
        # Each judge's own score, out of 100; "excused" for a conflict of interest.
        given = [
            out_of_100(cell) if isinstance(cell, Fraction) else (cell or "")
            for cell in sheet.row(nominee.pk)
        ]
        return [
            place.judges,
            out_of_100(place.jury_score),
            place.jury_rank,
            out_of_100(place.blended),
            place.blended_rank,
            *given,
        ]

    def rows(scope: str, members: list[Nominee]) -> Iterator[list]:
        active = [(n, tally[n.pk].get(Vote.Status.COUNTED, 0)) for n in members if n.is_active]
        for rank, nominee, votes in _competition_ranks(active):
            # Listed after the ranked nominees, without a rank: zeros have no leader.
            cells = _nominee_cells(nominee, votes, tally, marks)
            yield [scope, rank if votes else "", *cells, *jury_cells(nominee, scope)]
        for nominee in sorted((n for n in members if not n.is_active), key=lambda n: n.name):
            votes = tally[nominee.pk].get(Vote.Status.COUNTED, 0)
            cells = _nominee_cells(nominee, votes, tally, marks, status="hidden")
            yield [scope, "", *cells, *jury_cells(nominee, scope)]

    yield from rows("overall", nominees)
    for category in award.categories.all():
        yield from rows(category.name, [n for n in nominees if n.category_id == category.pk])


def _nominee_cells(nominee, votes, tally, marks, status=None) -> list:
    if status is None:
        status = marks.result(nominee.pk) if marks else ""
    return [
        nominee.name,
        nominee.slug,
        nominee.category.name,
        votes,
        tally[nominee.pk].get(Vote.Status.QUARANTINED, 0),
        tally[nominee.pk].get(Vote.Status.VOID, 0),
        status,
    ]


def _pseudonymizer(award: Award) -> Callable[[str], str]:
    """A keyed hash, salted per award: the same value gets the same code within one award's
    exports, and the codes are useless for guessing a value or joining two awards' files."""

    # Bounded: a few addresses recur across many votes, but a million distinct ones must not
    # stay in memory.
    @lru_cache(maxsize=65_536)
    def pseudonym(value: str) -> str:
        return keyed_hash(value, purpose=f"laurel.exports.{award.pk}")[:16]

    return pseudonym


def vote_rows(award: Award) -> Iterator[list]:
    """Every vote of the award in time order, one page of VOTES_PER_PAGE per query."""
    hashed = award.voter_data_in_exports == Award.VoterDataInExports.HASHED
    columns = ["pk", "created_at", "nominee__name", "category__name", "ref", "status"]
    columns += ["reasons", "verified", "voter_key", "ip", "network"]
    votes = Vote.objects.filter(award=award).order_by("created_at", "pk").values_list(*columns)
    pseudonym = _pseudonymizer(award)
    yield AUDIT_HEADER
    page_votes = votes
    while True:
        page = list(page_votes[:VOTES_PER_PAGE])
        for pk, created, nominee, category, ref, status, reasons, verified, key, ip, net in page:
            yield [
                pk,
                award.local(created).isoformat(timespec="seconds"),
                nominee,
                category,
                ref,
                status,
                reasons,
                "yes" if verified else "no",
                pseudonym(key) if hashed else key[:8],
                pseudonym(ip) if hashed else network_of(ip) or net,
            ]
        if len(page) < VOTES_PER_PAGE:
            return
        # Keyset pages: a range scan of vote_award_time from where the last page ended, so
        # each page is as quick as the first however deep into the votes.
        last_pk, last_time = page[-1][0], page[-1][1]
        page_votes = votes.filter(created_at__gte=last_time).exclude(
            created_at=last_time, pk__lte=last_pk
        )


def nominee_link_rows(award: Award, absolute: Absolute) -> Iterator[list]:
    """One row per listed nominee, by category then name: what a mail merge needs to send each
    nominee their vote link, their private toolkit link and their badge."""
    yield LINKS_HEADER
    nominees = (
        Nominee.objects.active()
        .filter(award=award)
        .select_related("category")
        .order_by("category__display_order", "category__name", "name", "pk")
    )
    for nominee in nominees:
        nominee.award = award  # the links without a query per nominee
        links = nominee_links(nominee=nominee, absolute=absolute)
        toolkit_url = absolute(stats_path(nominee))
        yield [
            nominee.name,
            nominee.category.name,
            links.vote_url,
            toolkit_url,
            links.badge_svg_url,
        ]


def _file_name(award: Award, what: str) -> str:
    return f"{award.slug}-{what}-{timezone.now():%Y%m%d-%H%M}.csv"


@require_safe
@organizer_access("awards.view_award")
def results_csv(request: HttpRequest, award_id: int) -> StreamingHttpResponse:
    award = award_for_user_or_404(request, award_id, role=ORGANIZER)
    return _csv_response(results_rows(award), _file_name(award, "results"))


@require_safe
@organizer_access("voting.view_vote")
def votes_csv(request: HttpRequest, award_id: int) -> StreamingHttpResponse:
    award = award_for_user_or_404(request, award_id, role=ORGANIZER)
    return _csv_response(vote_rows(award), _file_name(award, "votes"))


@require_safe
@organizer_access("awards.view_award")
def nominee_links_csv(request: HttpRequest, award_id: int) -> StreamingHttpResponse:
    award = award_for_user_or_404(request, award_id, role=ORGANIZER)
    rows = nominee_link_rows(award, request.build_absolute_uri)
    return _csv_response(rows, _file_name(award, "nominee-links"), bom=True)
