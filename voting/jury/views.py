"""The judges' area in the admin: their awards, each award's finalists to score, and the score
form for one finalist, made for a phone (the work is in voting.jury.services)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from awards.models import Award, AwardStaff, Criterion
from laurel.lib.admin_pages import admin_page_context
from voting.jury.services import (
    TO_SCORE,
    JuryError,
    assignment_categories,
    conflict_declare,
    in_scope,
    judge_assignment,
    judged_awards,
    jury_finalists,
    jury_scores,
    rubric_of,
    scores_save,
)
from voting.models import JuryConflict, JuryScore


def judge_access(view):
    """Signed-in staff only: others go to the admin's sign-in form, as for any admin page. Each
    view then asks for the award's own Judge role (_assignment_or_404)."""
    return admin.site.admin_view(view)


def _assignment_or_404(request: HttpRequest, award_id: int) -> AwardStaff:
    award = get_object_or_404(Award, pk=award_id)
    assignment = judge_assignment(request.user, award)
    if assignment is None:
        # Another award's jury, or no jury at all: not even whether it exists.
        raise Http404("No such award among those you judge.")
    return assignment


@require_safe
@judge_access
def jury_home(request: HttpRequest) -> HttpResponse:
    awards = list(judged_awards(request.user).order_by("-voting_closes"))
    if not awards:
        raise PermissionDenied("You are not a judge of any award.")
    if len(awards) == 1:
        return redirect("jury-award", award_id=awards[0].pk)
    return render(
        request,
        "admin/voting/jury_home.html",
        admin_page_context(request, "Your juries", awards=awards),
    )


@require_safe
@judge_access
def jury_award(request: HttpRequest, award_id: int) -> HttpResponse:
    assignment = _assignment_or_404(request, award_id)
    award = assignment.award
    now = timezone.now()
    jury = jury_scores(award, judge=request.user)
    mine = jury.assignments[0]  # this judge's, its categories prefetched
    rows = [
        {"row": row, "state": jury.state(request.user.pk, row.nominee_id)}
        for row in jury.finalists
        if in_scope(mine, row.category_id)
    ]
    context = admin_page_context(
        request,
        f"Jury: {award.name}",
        award=award,
        rows=rows,
        done=sum(1 for row in rows if row["state"] != TO_SCORE),
        now=now,
        open=award.jury_open(now),
        formula=award.results_formula,
    )
    return render(request, "admin/voting/jury_award.html", context)


class ScoreForm(forms.Form):
    """One choice per criterion, 1 to its scale; or a conflict of interest instead."""

    conflict = forms.BooleanField(
        label="I have a conflict of interest with this nominee",
        required=False,
        help_text="You are then excused from scoring them, and any score you gave is withdrawn.",
    )
    note = forms.CharField(
        label="What the conflict is (organizers see this)",
        max_length=300,
        required=False,
    )

    def __init__(self, *args, criteria: list[Criterion], initial_scores: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for item in criteria:
            self.fields[self.name_for(item)] = forms.TypedChoiceField(
                label=f"{item.name}",
                choices=[(n, str(n)) for n in range(1, item.scale + 1)],
                coerce=int,
                required=False,
                widget=forms.RadioSelect(attrs={"class": "laurel-scale"}),
                initial=initial_scores.get(item.pk),
                help_text=f"1 (lowest) to {item.scale} (highest); weight {item.weight}.",
            )

    @staticmethod
    def name_for(item: Criterion) -> str:
        return f"criterion_{item.pk}"

    def clean(self):
        data = super().clean()
        if data.get("conflict"):
            return data
        missing = [item.name for item in self.criteria if not data.get(self.name_for(item))]
        if missing:
            raise forms.ValidationError(
                f"Score every criterion ({', '.join(missing)}), or declare a conflict of interest.",
                code="incomplete",
            )
        return data

    @property
    def scores(self) -> dict[int, int]:
        return {item.pk: self.cleaned_data[self.name_for(item)] for item in self.criteria}


@require_http_methods(["GET", "HEAD", "POST"])
@judge_access
def jury_score(request: HttpRequest, award_id: int, nominee_id: int) -> HttpResponse:
    assignment = _assignment_or_404(request, award_id)
    award = assignment.award
    finalists = jury_finalists(award, assignment_categories(assignment))
    row = finalists.filter(nominee_id=nominee_id).first()
    if row is None:
        raise Http404("That nominee is not a finalist in your categories.")
    nominee = row.nominee
    nominee.award = award
    criteria = rubric_of(award)
    given = dict(
        JuryScore.objects.filter(judge=request.user, nominee=nominee).values_list(
            "criterion_id", "score"
        )
    )
    conflict = JuryConflict.objects.filter(judge=request.user, nominee=nominee).first()
    now = timezone.now()
    form = ScoreForm(
        request.POST if request.method == "POST" else None,
        criteria=criteria,
        initial_scores=given,
    )
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if form.cleaned_data["conflict"]:
                    conflict_declare(
                        award=award,
                        judge=request.user,
                        nominee=nominee,
                        note=form.cleaned_data["note"],
                        now=now,
                    )
                    messages.success(request, f"You are excused from scoring {nominee.name}.")
                else:
                    scores_save(
                        award=award,
                        judge=request.user,
                        nominee=nominee,
                        scores=form.scores,
                        now=now,
                    )
                    messages.success(request, f"Your scores for {nominee.name} are saved.")
                return redirect("jury-award", award_id=award.pk)
            except JuryError as error:
                errors, status = [str(error)], 409
        else:
            errors, status = [e for e in form.non_field_errors()], 400
    context = admin_page_context(
        request,
        f"Score {nominee.name}",
        award=award,
        row=row,
        nominee=nominee,
        form=form,
        criteria_fields=[form[ScoreForm.name_for(item)] for item in criteria],
        conflict=conflict,
        errors=errors,
        open=award.jury_open(now),
    )
    return render(request, "admin/voting/jury_score.html", context, status=status)


class JuryWelcome(PasswordResetConfirmView):
    """An invited judge's first visit: they choose their password, then sign in (and, in real
    mode, set up their second factor). The link works once, and for PASSWORD_RESET_TIMEOUT."""

    template_name = "admin/voting/jury_welcome.html"
    title = "Welcome to the jury"

    def get_success_url(self) -> str:
        return f"{reverse('admin:login')}?next={reverse('jury-home')}"

    def form_valid(self, form):
        messages.success(self.request, "Your password is set: sign in to score the finalists.")
        return super().form_valid(form)


jury_welcome = JuryWelcome.as_view()
