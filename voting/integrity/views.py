"""The integrity review page in the admin: an award's suspicious clusters, its votes over time,
one action per cluster, and the audit log. The queries and the action live in voting.integrity.review."""

from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from awards.models import Award, Nominee
from awards.roles import MODERATOR, award_for_user_or_404
from laurel.lib.admin_pages import admin_page_context
from laurel.lib.forms import form_error_list
from voting.integrity.bursts import burst_flags
from voting.integrity.review import (
    ACTION_STATUSES,
    CLUSTERS_PER_DIMENSION,
    DEFAULT_WINDOW,
    HOUR,
    WINDOWS,
    Cluster,
    Dimension,
    Timeline,
    cluster_filter,
    cluster_set_status,
    cluster_votes_to_change,
    hour_label,
    hour_start,
    new_voter_limit,
    review_clusters,
    review_timeline,
    window_bounds,
)
from voting.models import AuditEntry

REVIEW_PERMISSION = "voting.change_vote"
AUDIT_ENTRIES_SHOWN = 20
WINDOW_CHOICES = [(key, label) for key, (label, _length) in WINDOWS.items()]
ACTION_CHOICES = [
    (AuditEntry.Action.QUARANTINE, "Hold for review (stop counting)"),
    (AuditEntry.Action.VOID, "Void (never count)"),
    (AuditEntry.Action.RESTORE, "Restore (count again)"),
]
ACTION_BUTTONS = {
    AuditEntry.Action.QUARANTINE: "hold",
    AuditEntry.Action.VOID: "void",
    AuditEntry.Action.RESTORE: "restore",
}
ACTION_VERBS = {
    AuditEntry.Action.QUARANTINE: "held for review",
    AuditEntry.Action.VOID: "voided",
    AuditEntry.Action.RESTORE: "restored",
}
DIMENSION_HEADINGS = {
    Dimension.ADDRESS: "By address",
    Dimension.NETWORK: "By network",
    Dimension.USER_AGENT: "By user agent",
    Dimension.NOMINEE: "By nominee",
    Dimension.HOUR: "By hour",
}
DEFAULT_VIEW_NOTE = "The filter was not understood: this is the default view."
# The chart's drawing box: one slot per hour or day, bars scaled to each nominee's peak.
CHART_SLOT, CHART_HEIGHT = 10, 60


def may_review(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(REVIEW_PERMISSION)


def review_access(view):
    """Staff with voting.change_vote only. Anyone else signed in gets 403 rather than the
    admin's login form; anonymous visitors are sent to that form."""
    guarded = admin.site.admin_view(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and not may_review(request.user):
            raise PermissionDenied
        return guarded(request, *args, **kwargs)

    return wrapper


class ReviewFilterForm(forms.Form):
    window = forms.ChoiceField(label="Time window", choices=WINDOW_CHOICES, required=False)
    nominee = forms.ModelChoiceField(
        label="Also chart nominee",
        queryset=Nominee.objects.none(),
        required=False,
        empty_label="(only the top nominees)",
    )

    def __init__(self, *args, award: Award, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["nominee"].queryset = Nominee.objects.filter(award=award).only("id", "name")


class ClusterActionForm(forms.Form):
    dimension = forms.ChoiceField(choices=Dimension.choices, widget=forms.HiddenInput)
    # Blank is a value too: votes with no user agent, or with no network on record.
    value = forms.CharField(required=False, strip=False, max_length=300, widget=forms.HiddenInput)
    window = forms.ChoiceField(choices=WINDOW_CHOICES, widget=forms.HiddenInput)
    # When the page was drawn: the confirmation and the change cover the votes it counted,
    # not the ones that arrived while the organizer was reading.
    until = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=ACTION_CHOICES)
    reason = forms.CharField(label="Why", max_length=1000)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if "dimension" in data and "value" in data:
            try:
                cluster_filter(data["dimension"], data["value"])
            except ValueError as error:
                raise forms.ValidationError(str(error), code="bad_cluster") from None
        now = timezone.now()
        data["until"] = min(data.get("until") or now, now)
        if "window" in data:
            try:
                window_bounds(data["window"], now=data["until"])
            except OverflowError:
                raise forms.ValidationError("That moment is out of range.", code="range") from None
        return data


@require_http_methods(["GET", "HEAD", "POST"])
@review_access
def integrity_review(request: HttpRequest, award_id: int) -> HttpResponse:
    award = award_for_user_or_404(request, award_id, role=MODERATOR)
    if request.method == "POST":
        return _act(request, award)
    form = ReviewFilterForm(request.GET or None, award=award)
    if form.is_bound and not form.is_valid():
        return _page(
            request, award, errors=form_error_list(form), status=400, errors_intro=DEFAULT_VIEW_NOTE
        )
    data = form.cleaned_data if form.is_bound else {}
    return _page(request, award, window=data.get("window"), nominee=data.get("nominee"))


def _act(request: HttpRequest, award: Award) -> HttpResponse:
    form = ClusterActionForm(request.POST)
    if not form.is_valid():
        return _page(request, award, errors=form_error_list(form), status=400)
    data = form.cleaned_data
    since, until = window_bounds(data["window"], now=data["until"])
    cluster = {
        "award": award,
        "dimension": data["dimension"],
        "value": data["value"],
        "since": since,
        "until": until,
    }
    status = ACTION_STATUSES[data["action"]]
    if not data["confirmed"]:
        changing = cluster_votes_to_change(**cluster, status=status).count()
        context = {
            **admin_page_context(request, "Confirm the change", award=award),
            "data": data,
            "since": since,
            "until": until,
            "changing": changing,
            "action_label": dict(ACTION_CHOICES)[data["action"]],
            "action_verb": ACTION_BUTTONS[data["action"]],
            "cluster_label": _cluster_label(award, data["dimension"], data["value"]),
            "dimension_label": Dimension(data["dimension"]).label,
            "window_label": WINDOWS[data["window"]][0],
        }
        return render(request, "admin/voting/integrity_confirm.html", context)
    entry = cluster_set_status(**cluster, user=request.user, status=status, reason=data["reason"])
    messages.success(
        request,
        f"{entry.count} vote(s) {ACTION_VERBS[data['action']]}. Standings follow within seconds.",
    )
    url = reverse("integrity-review", args=[award.pk])
    return redirect(f"{url}?{urlencode({'window': data['window']})}")


def _cluster_label(award: Award, dimension: str, value: str) -> str:
    if dimension == Dimension.NOMINEE:
        name = Nominee.objects.filter(award=award, pk=int(value)).values_list("name", flat=True)
        return name.first() or f"Nominee {value} (not in this award)"
    if dimension == Dimension.HOUR:
        return hour_label(award, hour_start(value))
    return value or "(blank)"


def _page(
    request: HttpRequest,
    award: Award,
    *,
    window: str | None = None,
    nominee: Nominee | None = None,
    errors: list[str] | None = None,
    errors_intro: str = "Nothing was changed.",
    status: int = 200,
) -> HttpResponse:
    window = window or DEFAULT_WINDOW
    since, until = window_bounds(window, now=timezone.now())
    clusters = review_clusters(award=award, since=since, until=until)
    timeline = review_timeline(
        award=award, since=since, until=until, nominee_id=nominee.pk if nominee else None
    )
    filter_form = ReviewFilterForm(
        initial={"window": window, "nominee": nominee}, award=award, auto_id="filter-%s"
    )
    context = {
        **admin_page_context(request, f"Integrity review: {award.name}", award=award),
        "filter_form": filter_form,
        "errors": errors,
        "errors_intro": errors_intro,
        "window": window,
        "window_label": WINDOWS[window][0],
        "per_dimension": CLUSTERS_PER_DIMENSION,
        "since": since or award.voting_opens,
        "until": until,
        "sections": [
            {
                "dimension": dimension,
                "heading": DIMENSION_HEADINGS[dimension],
                "column": "Hour starting" if dimension == Dimension.HOUR else dimension.label,
                "new_voter_limit": new_voter_limit(award, dimension),
                "rows": [_row(award, cluster, since, until) for cluster in clusters[dimension]],
            }
            for dimension in Dimension
        ],
        "action_choices": ACTION_CHOICES,
        "bursts": burst_flags(award=award, now=until),
        "timeline": timeline,
        "charts": _charts(timeline),
        "audit_entries": AuditEntry.objects.filter(award=award).select_related("user")[
            :AUDIT_ENTRIES_SHOWN
        ],
        "audit_url": f"{reverse('admin:voting_auditentry_changelist')}?award__id__exact={award.pk}",
    }
    return render(request, "admin/voting/integrity.html", context, status=status)


def _row(award: Award, cluster: Cluster, since: datetime | None, until: datetime) -> dict:
    return {"cluster": cluster, "votes_url": vote_list_url(award, cluster, since, until)}


def vote_list_url(award: Award, cluster: Cluster, since: datetime | None, until: datetime) -> str:
    """The Vote changelist showing exactly the cluster's votes in the window."""
    query = {"award__id__exact": award.pk}
    if cluster.dimension == Dimension.HOUR:
        start = hour_start(cluster.value)
        since = max(since, start) if since else start
        until = min(until, start + HOUR)
    else:
        field = {
            Dimension.ADDRESS: "ip",
            Dimension.NETWORK: "network",
            Dimension.USER_AGENT: "user_agent",
            Dimension.NOMINEE: "nominee",
        }[cluster.dimension]
        query[field] = cluster.value
    if since:
        query["created_at__gte"] = since.isoformat()
    query["created_at__lt"] = until.isoformat()
    return f"{reverse('admin:voting_vote_changelist')}?{urlencode(query)}"


def _charts(timeline: Timeline) -> list[dict]:
    """Bars for each nominee's inline SVG chart: counted at the bottom, held stacked on top."""
    charts = []
    for series in timeline.series:
        peak = series.peak or 1
        bars, rows = [], []
        for slot, (start, counted, held) in enumerate(
            zip(timeline.starts, series.counted, series.held, strict=True)
        ):
            if not counted and not held:
                continue
            counted_height = round(counted * CHART_HEIGHT / peak, 2)
            held_height = round(held * CHART_HEIGHT / peak, 2)
            bars.append(
                {
                    "x": slot * CHART_SLOT + 1,
                    "counted_y": round(CHART_HEIGHT - counted_height, 2),
                    "counted_height": counted_height,
                    "held_y": round(CHART_HEIGHT - counted_height - held_height, 2),
                    "held_height": held_height,
                }
            )
            rows.append({"start": start, "counted": counted, "held": held})
        busiest = max(rows, key=lambda row: row["counted"] + row["held"], default=None)
        charts.append(
            {
                "series": series,
                "bars": bars,
                "rows": rows,
                "busiest": busiest,
                "width": max(len(timeline.starts), 1) * CHART_SLOT,
                "bar_width": CHART_SLOT - 2,
            }
        )
    return charts
