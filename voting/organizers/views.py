"""Organizers' pages in the admin beside the integrity review: the award dashboard, and the
review and publication of the results (the work itself is in voting.organizers.dashboard and
voting.standings.results)."""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages.storage.base import Message
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from awards.models import Award, AwardStaff
from awards.roles import ORGANIZER, award_for_user_or_404
from laurel.lib.admin_pages import admin_page_context
from laurel.lib.forms import form_error_list
from voting.jury.services import JuryError, judge_invite, judge_remove, jury_scores, score_sheet
from voting.models import AuditEntry, Standing, Vote
from voting.organizers.dashboard import CHART_HEIGHT, CHART_SLOT, award_dashboard, chart_bars
from voting.organizers.publication import award_blend, publication_check, publication_publish
from voting.standings.public import WINNER, AwardResults, Placing
from voting.standings.results import (
    Marks,
    PublishCheck,
    PublishError,
    StaleReviewError,
    default_marks,
    final_standings,
    published_marks,
)
from voting.standings.services import standings_visibility
from voting.standings.views import nominee_gallery

DASHBOARD_PERMISSION = "awards.view_award"
PUBLISH_PERMISSION = "awards.change_award"
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# The results page shows each category's top rows (and any marked below them); the rest are a
# link away, so an award of a thousand nominees never renders them all at once.
RESULTS_TOP = 10
CATEGORY_ROWS_PER_PAGE = 100
# The publish review's winners summary: the first places of each category, with votes.
SUMMARY_TOP = 3


def organizer_access(permission: str):
    """Staff with `permission` only: anyone else signed in gets 403 rather than the admin's
    login form; anonymous visitors are sent to that form."""

    def decorate(view):
        guarded = admin.site.admin_view(view)

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if user.is_authenticated and not (user.is_staff and user.has_perm(permission)):
                raise PermissionDenied
            return guarded(request, *args, **kwargs)

        return wrapper

    return decorate


def organizer_award(request: HttpRequest, award_id: int) -> Award:
    """The award behind an organizer page, for this user: the one place to narrow it."""
    # Another award's page is "not found"; moderators have no organizer pages.
    return award_for_user_or_404(request, award_id, role=ORGANIZER)


@require_safe
@organizer_access(DASHBOARD_PERMISSION)
def dashboard(request: HttpRequest, award_id: int) -> HttpResponse:
    award = organizer_award(request, award_id)
    now = timezone.now()
    board = award_dashboard(award=award, now=now)
    context = {
        **admin_page_context(request, f"Dashboard: {award.name}", award=award),
        "board": board,
        "bars": chart_bars(board.hours),
        "chart_width": max(len(board.hours), 1) * CHART_SLOT,
        "chart_height": CHART_HEIGHT,
        "bar_width": CHART_SLOT - 2,
        "busiest": max(board.hours, key=lambda hour: hour.total, default=None),
        "statuses": [(label, board.totals[value]) for value, label in Vote.Status.choices],
    }
    return render(request, "admin/voting/dashboard.html", context)


class PublishForm(forms.Form):
    finalists = forms.TypedMultipleChoiceField(coerce=int, required=False)
    winners = forms.TypedMultipleChoiceField(coerce=int, required=False)
    publish_at = forms.DateTimeField(
        label="Public from",
        input_formats=[LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT),
        help_text="In the award's time zone. A time to come publishes then, with nobody acting.",
    )
    reason = forms.CharField(
        label="Why publish again",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )
    # The figures the review page showed (PublishCheck.seen): the confirmation is for those.
    seen = forms.CharField(required=False, widget=forms.HiddenInput)
    acknowledge = forms.BooleanField(label="Publish despite these warnings", required=False)

    def __init__(self, *args, award: Award, rows: list[Standing], **kwargs):
        super().__init__(*args, **kwargs)
        self.award = award
        ids = [(row.nominee_id, row.nominee.name) for row in rows]
        self.fields["finalists"].choices = ids
        self.fields["winners"].choices = ids

    def clean_publish_at(self):
        at = self.cleaned_data["publish_at"]
        # results_publish refuses it too; said here, the review page never shows such a time.
        if at < self.award.voting_closes:
            raise forms.ValidationError(
                "The publication time must be after voting closed.", code="before_close"
            )
        return at

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        # results_publish refuses it too; said here, before the review rather than after it.
        if self.award.results_frozen_at is not None and not reason:
            raise forms.ValidationError(
                "Say why the results are published again: it goes in the log.", code="required"
            )
        return reason

    def full_clean(self):
        # Times typed here are the award's local times.
        with timezone.override(self.award.zone):
            super().full_clean()


class PreviewForm(PublishForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("publish_at", "reason", "seen", "acknowledge"):
            del self.fields[name]


@require_safe
@organizer_access(PUBLISH_PERMISSION)
def results(request: HttpRequest, award_id: int) -> HttpResponse:
    award = organizer_award(request, award_id)
    return _results_page(request, award, list(final_standings(award)))


@require_http_methods(["GET", "HEAD", "POST"])
@organizer_access(PUBLISH_PERMISSION)
def publish(request: HttpRequest, award_id: int) -> HttpResponse:
    """Show what publishing these marks would do, with its warnings (GET); publish on the
    confirming POST from that page, if the votes are still as shown."""
    award = organizer_award(request, award_id)
    rows = list(final_standings(award))
    posted = request.method == "POST"
    form = PublishForm(request.POST if posted else request.GET, award=award, rows=rows)
    if not form.is_valid():
        errors = form_error_list(form)
        return _results_page(request, award, rows, form=form, errors=errors, status=400)
    if not posted:
        check = publication_check(award, now=timezone.now())
        return _publish_review(request, award, rows, form, check)
    data = form.cleaned_data
    try:
        entry = publication_publish(
            award=award,
            by=request.user,
            at=data["publish_at"],
            finalists=data["finalists"],
            winners=data["winners"],
            reason=data["reason"],
            seen=data["seen"],
            acknowledged=data["acknowledge"],
        )
    except PublishError as error:
        # The figures as they are now, for a confirmation of what is true.
        check = publication_check(award, now=timezone.now())
        status = 409 if isinstance(error, StaleReviewError) else 400
        return _publish_review(
            request, award, rows, form, check, errors=[str(error)], status=status
        )
    verb = "re-published" if entry.action == AuditEntry.Action.REPUBLISH else "published"
    moment = award.local(data["publish_at"])
    messages.success(
        request,
        f"Results {verb}: public from {moment:%b %-d, %Y %H:%M} ({award.time_zone}), frozen as "
        "they stand now.",
    )
    return redirect("results-review", award_id=award.pk)


def _publish_review(
    request: HttpRequest,
    award: Award,
    rows: list[Standing],
    form: PublishForm,
    check: PublishCheck,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    data = form.cleaned_data
    winners, finalists = set(data["winners"]), set(data["finalists"]) | set(data["winners"])
    blend = award_blend(award)
    leaders: dict[int, list] = {}
    for row in sorted(rows, key=lambda row: row.category_position):
        shown = leaders.setdefault(row.category_id, [])
        if row.votes and len(shown) < SUMMARY_TOP:
            mark = "Winner" if row.nominee_id in winners else ""
            mark = mark or ("Finalist" if row.nominee_id in finalists else "")
            shown.append({"row": row, "mark": mark, "blend": blend.get(row.nominee_id)})
    context = {
        **admin_page_context(request, f"Publish the results: {award.name}", award=award),
        "form": form,
        "check": check,
        "errors": errors,
        "republish": award.results_frozen_at is not None,
        "public_from": data["publish_at"],
        "finalists": sorted(finalists),
        "winners": sorted(winners),
        "marked": len(finalists),
        "ranked": sum(1 for row in rows if row.votes),
        "nominees": len(rows),
        "summary": [(c, leaders.get(c.pk, [])) for c in award.categories.all()],
        "formula": award.results_formula,
    }
    return render(request, "admin/voting/results_publish.html", context, status=status)


class InviteForm(forms.Form):
    name = forms.CharField(label="Judge's name", max_length=150)
    email = forms.EmailField(label="Email")
    categories = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every category.",
    )

    def __init__(self, *args, award: Award, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = award.categories.all()


@require_http_methods(["GET", "HEAD", "POST"])
@organizer_access(PUBLISH_PERMISSION)
def jury_judges(request: HttpRequest, award_id: int) -> HttpResponse:
    """The award's judges, and an invitation for one more: a new account gets a link to set
    its password, to be sent to the judge."""
    award = organizer_award(request, award_id)
    form = InviteForm(request.POST or None, award=award)
    invitation, link, errors, status = None, "", [], 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation = judge_invite(
                    award=award,
                    by=request.user,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    categories=form.cleaned_data["categories"],
                )
            except JuryError as error:
                errors, status = [str(error)], 409
            else:
                user = invitation.staff.user
                if invitation.new_account:
                    uid = urlsafe_base64_encode(force_bytes(user.pk))
                    token = default_token_generator.make_token(user)
                    link = request.build_absolute_uri(reverse("jury-welcome", args=[uid, token]))
                form = InviteForm(award=award)
        else:
            errors, status = form_error_list(form), 400
    judges = (
        AwardStaff.objects.filter(award=award, role=AwardStaff.Role.JUDGE)
        .select_related("user")
        .prefetch_related("categories")
        .order_by("user__username")
    )
    context = {
        **admin_page_context(request, f"Judges: {award.name}", award=award),
        "form": form,
        "judges": judges,
        "invitation": invitation,
        "link": link,
        "link_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        "errors": errors,
    }
    response = render(request, "admin/voting/jury_judges.html", context, status=status)
    if link:  # the admin already says never_cache; the link is a key, so no Referer either
        response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["POST"])
@organizer_access(PUBLISH_PERMISSION)
def jury_judge_remove(request: HttpRequest, award_id: int, staff_id: int) -> HttpResponse:
    award = organizer_award(request, award_id)
    staff = get_object_or_404(AwardStaff, pk=staff_id, award=award, role=AwardStaff.Role.JUDGE)
    judge_remove(staff=staff, by=request.user)
    messages.success(
        request, f"{staff.user.get_full_name() or staff.user.get_username()} is off the jury."
    )
    return redirect("jury-judges", award_id=award.pk)


@require_safe
@organizer_access(PUBLISH_PERMISSION)
def judges_scores(request: HttpRequest, award_id: int) -> HttpResponse:
    """Every judge's score for every finalist, as the blend averages them."""
    award = organizer_award(request, award_id)
    jury = jury_scores(award)
    sheet = score_sheet(award, jury)
    blend = award_blend(award, jury)
    by_category: dict[int, list] = {}
    for row in sheet.finalists:
        place = blend.get(row.nominee_id)
        by_category.setdefault(row.category_id, []).append((row, sheet.row(row.nominee_id), place))
    context = {
        **admin_page_context(request, f"Jury scores: {award.name}", award=award),
        "judges": sheet.judges,
        "categories": [
            (category, by_category[category.pk])
            for category in award.categories.all()
            if category.pk in by_category
        ],
    }
    return render(request, "admin/voting/jury_scores.html", context)


@require_safe
@organizer_access(PUBLISH_PERMISSION)
def results_category(request: HttpRequest, award_id: int, category_id: int) -> HttpResponse:
    """Every ranked nominee of one category, a page at a time: the results page shows the top."""
    award = organizer_award(request, award_id)
    category = get_object_or_404(award.categories, pk=category_id)
    rows = final_standings(award).filter(category=category).order_by("category_position")
    page = Paginator(rows, CATEGORY_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        **admin_page_context(request, f"Results: {category.name}", award=award),
        "category": category,
        "page": page,
    }
    return render(request, "admin/voting/results_category.html", context)


def _results_page(
    request: HttpRequest,
    award: Award,
    rows: list[Standing],
    *,
    form: PublishForm | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    blend = award_blend(award)
    marks = published_marks(award) or default_marks(award, rows, blend)
    if form is None:
        start = max(now, award.voting_closes)
        if award.results_frozen_at and award.results_published_at:
            start = award.results_published_at
        form = PublishForm(
            award=award,
            rows=rows,
            initial={
                "publish_at": award.local(start).replace(second=0, microsecond=0, tzinfo=None),
                "finalists": sorted(marks.finalists),
                "winners": sorted(marks.winners),
            },
        )
    if form.is_bound:
        finalists = set(form.data.getlist("finalists"))
        winners = set(form.data.getlist("winners"))
    else:
        finalists = {str(pk) for pk in marks.finalists}
        winners = {str(pk) for pk in marks.winners}
    by_category: dict[int, list] = {}
    counts: dict[int, int] = {}
    for row in sorted(rows, key=lambda row: row.category_position):
        counts[row.category_id] = counts.get(row.category_id, 0) + 1
        entry = {
            "row": row,
            "finalist": str(row.nominee_id) in finalists,
            "winner": str(row.nominee_id) in winners,
            "blend": blend.get(row.nominee_id),
        }
        # A marked nominee below the top stays in the form, or publishing would drop its mark.
        if row.category_position <= RESULTS_TOP or entry["finalist"] or entry["winner"]:
            by_category.setdefault(row.category_id, []).append(entry)
    categories = [
        (category, by_category.get(category.pk, []), counts.get(category.pk, 0))
        for category in award.categories.all()
    ]
    context = {
        **admin_page_context(request, f"Results: {award.name}", award=award),
        "now": now,
        "closed": now >= award.voting_closes,
        "published": award.results_frozen_at is not None,
        "public": award.results_published_at is not None and award.results_published_at <= now,
        "changed_since": _changed_since_publication(award),
        "form": form,
        "errors": errors,
        "categories": categories,
        "formula": award.results_formula,
        "history": AuditEntry.objects.filter(
            award=award, action__in=[AuditEntry.Action.PUBLISH, AuditEntry.Action.REPUBLISH]
        ).select_related("user")[:20],
    }
    return render(request, "admin/voting/results.html", context, status=status)


def _changed_since_publication(award: Award) -> int:
    """Nominees whose counted votes differ from the published copy: a re-publication's due."""
    if award.results_frozen_at is None:
        return 0
    return (
        Standing.objects.filter(award=award, nominee__published_result__isnull=False)
        .exclude(votes=F("nominee__published_result__votes"))
        .count()
    )


@never_cache
@require_safe
@organizer_access(PUBLISH_PERMISSION)
def results_preview(request: HttpRequest, award_id: int) -> HttpResponse:
    """The public award page as it will look with these marks, before anything is published."""
    award = organizer_award(request, award_id)
    rows = list(final_standings(award))
    form = PreviewForm(request.GET or None, award=award, rows=rows)
    if form.is_bound and not form.is_valid():
        return _results_page(request, award, rows, errors=form_error_list(form), status=400)
    if form.is_bound:
        marks = Marks(
            finalists=frozenset(form.cleaned_data["finalists"] + form.cleaned_data["winners"]),
            winners=frozenset(form.cleaned_data["winners"]),
        )
    else:
        marks = published_marks(award) or default_marks(award, rows, award_blend(award))
    now = timezone.now()
    categories = award.categories.annotate(
        nominee_count=Count("nominees", filter=Q(nominees__is_active=True))
    )
    banner = (
        "Preview of the published results, as the public will see them. Nothing is published "
        "yet: close this tab and press Publish."
    )
    context = {
        "award": award,
        "categories": categories,
        "now": now,
        "visibility": standings_visibility(award, now),
        "results": _draft_results(award, rows, marks),
        "preview": True,
        "messages": [Message(messages.WARNING, banner)],
        **nominee_gallery(request, award.nominees.select_related("category")),
    }
    response = render(request, "voting/standings/award.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


def _draft_results(award: Award, rows: list[Standing], marks: Marks) -> AwardResults:
    by_category: dict[int, list[Placing]] = {}
    for row in sorted(rows, key=lambda row: row.category_position):
        result = marks.result(row.nominee_id)
        if result:
            placing = Placing(row.nominee, row.category_rank, row.votes, result)
            by_category.setdefault(row.category_id, []).append(placing)
    winners = [row for row in rows if row.overall_rank == 1 and row.votes > 0]
    return AwardResults(
        overall_winners=[Placing(row.nominee, 1, row.votes, WINNER) for row in winners],
        categories=[
            (category, by_category.get(category.pk, [])) for category in award.categories.all()
        ],
    )
