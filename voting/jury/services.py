"""The jury round: who judges what, scoring, conflicts of interest, progress, and the blended
results (the formula is voting/jury/blend.py).

Judges are staff accounts with the Judge role on an award (AwardStaff), for some of its
categories or all of them. From the close of voting until `Award.jury_closes` they score each
finalist of their categories (the top `finalists_per_category` by counted votes, as the results
page marks them) on the award's criteria, or declare a conflict of interest, which excuses
them from that finalist. Every change is audited with what it replaced.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils.text import slugify

from awards.models import Award, AwardStaff, Category, Criterion, Nominee
from awards.slugs import unique_slug
from voting.jury.blend import Blended, Contender, Rubric, blend_category, judge_score
from voting.models import AuditEntry, JuryConflict, JuryScore, Standing


class JuryError(ValueError):
    """A scoring or an invitation refused, with a sentence the judge or organizer can act on."""


@dataclass(frozen=True)
class Invitation:
    staff: AwardStaff
    # A new account, without a password until the judge sets one from the invitation link;
    # False: an existing account, which signs in as it always has.
    new_account: bool


def _username_for(email: str) -> str:
    User = get_user_model()
    base = slugify(email.split("@", 1)[0])[:30] or "judge"
    taken = set(User.objects.filter(username__startswith=base).values_list("username", flat=True))
    return unique_slug(base, taken)


@transaction.atomic
def judge_invite(
    *, award: Award, by: AbstractBaseUser, name: str, email: str, categories
) -> Invitation:
    """Gives the Judge role on `award` to the account with this email, creating it (staff,
    no password yet) if there is none."""
    User = get_user_model()
    email = User.objects.normalize_email(email.strip())
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    new_account = user is None
    if new_account:
        first, _, last = name.strip().partition(" ")
        user = User(username=_username_for(email), email=email, first_name=first, last_name=last)
        user.set_unusable_password()
    elif not user.is_active:
        raise JuryError(f"The account for {email} is deactivated: a superuser can reactivate it.")
    user.is_staff = True
    user.save()
    if AwardStaff.objects.filter(award=award, user=user).exists():
        raise JuryError(f"{email} already has a role on this award.")
    staff = AwardStaff.objects.create(award=award, user=user, role=AwardStaff.Role.JUDGE)
    staff.categories.set(categories)
    AuditEntry.objects.create(
        award=award,
        user=by,
        action=AuditEntry.Action.INVITE_JUDGE,
        detail={
            "judge": user.pk,
            "new_account": new_account,
            "categories": sorted(category.pk for category in categories),
        },
    )
    return Invitation(staff=staff, new_account=new_account)


@transaction.atomic
def judge_remove(*, staff: AwardStaff, by: AbstractBaseUser) -> None:
    """Takes a judge off the jury; their scores stay on record (and in the audit log) but no
    longer count."""
    if staff.role != AwardStaff.Role.JUDGE:
        raise JuryError("Only judges are taken off the jury here.")
    AuditEntry.objects.create(
        award=staff.award,
        user=by,
        action=AuditEntry.Action.REMOVE_JUDGE,
        detail={"judge": staff.user_id},
    )
    staff.delete()


def judge_assignment(user: AbstractBaseUser, award: Award) -> AwardStaff | None:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    return AwardStaff.objects.filter(user=user, award=award, role=AwardStaff.Role.JUDGE).first()


def judged_awards(user: AbstractBaseUser) -> QuerySet[Award]:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return Award.objects.none()
    return Award.objects.filter(staff__user=user, staff__role=AwardStaff.Role.JUDGE)


def assignment_categories(assignment: AwardStaff) -> QuerySet[Category]:
    chosen = assignment.categories.all()
    return chosen if chosen.exists() else assignment.award.categories.all()


def jury_finalists(award: Award, categories=None) -> QuerySet[Standing]:
    """The finalists the jury scores: each category's top `finalists_per_category` by counted
    votes (ties share the place), active nominees with votes only."""
    rows = Standing.objects.select_related("nominee", "category").filter(
        award=award,
        votes__gt=0,
        category_rank__isnull=False,
        category_rank__lte=award.finalists_per_category,
    )
    if categories is not None:
        rows = rows.filter(category__in=categories)
    return rows.order_by("category__display_order", "category__name", "category_position")


def rubric_of(award: Award) -> list[Criterion]:
    return list(award.criteria.all())


def _check_may_score(award: Award, judge: AbstractBaseUser, nominee: Nominee, now: datetime):
    if not award.has_jury:
        raise JuryError("This award has no jury.")
    if now < award.voting_closes:
        raise JuryError("The jury scores the finalists once voting has closed.")
    if not award.jury_open(now):
        raise JuryError("The jury round has closed: scores can no longer be changed.")
    assignment = judge_assignment(judge, award)
    if assignment is None:
        raise JuryError("Only this award's judges can score its finalists.")
    finalists = jury_finalists(award, assignment_categories(assignment))
    if not finalists.filter(nominee=nominee).exists():
        raise JuryError("That nominee is not a finalist in your categories.")


@transaction.atomic
def scores_save(
    *,
    award: Award,
    judge: AbstractBaseUser,
    nominee: Nominee,
    scores: Mapping[int, int],
    now: datetime,
) -> AuditEntry:
    """A judge's scores for one finalist, one per criterion, replacing any earlier ones."""
    _check_may_score(award, judge, nominee, now)
    if JuryConflict.objects.filter(judge=judge, nominee=nominee).exists():
        raise JuryError("You declared a conflict of interest with this nominee.")
    rubric = rubric_of(award)
    if not rubric:
        raise JuryError("The award has no criteria to score yet.")
    missing = [item.name for item in rubric if item.pk not in scores]
    if missing:
        raise JuryError(f"Score every criterion: {', '.join(missing)} has no score.")
    for item in rubric:
        if not 1 <= scores[item.pk] <= item.scale:
            raise JuryError(f"{item.name} is scored from 1 to {item.scale}.")
    before = dict(
        JuryScore.objects.filter(judge=judge, nominee=nominee).values_list("criterion_id", "score")
    )
    for item in rubric:
        JuryScore.objects.update_or_create(
            judge=judge,
            nominee=nominee,
            criterion=item,
            defaults={"award": award, "score": scores[item.pk], "updated_at": now},
        )
    return AuditEntry.objects.create(
        award=award,
        user=judge,
        action=AuditEntry.Action.SCORE,
        count=0,
        detail={
            "nominee": nominee.pk,
            "before": {str(pk): before[pk] for pk in sorted(before)},
            "after": {str(item.pk): scores[item.pk] for item in rubric},
        },
    )


@transaction.atomic
def conflict_declare(
    *, award: Award, judge: AbstractBaseUser, nominee: Nominee, note: str, now: datetime
) -> AuditEntry:
    """Excuses the judge from this finalist: their scores for it, if any, are withdrawn."""
    _check_may_score(award, judge, nominee, now)
    note = note.strip()[:300]
    _conflict, created = JuryConflict.objects.get_or_create(
        judge=judge,
        nominee=nominee,
        defaults={"award": award, "note": note, "declared_at": now},
    )
    if not created:
        raise JuryError("You have already declared a conflict of interest with this nominee.")
    withdrawn = dict(
        JuryScore.objects.filter(judge=judge, nominee=nominee).values_list("criterion_id", "score")
    )
    JuryScore.objects.filter(judge=judge, nominee=nominee).delete()
    return AuditEntry.objects.create(
        award=award,
        user=judge,
        action=AuditEntry.Action.CONFLICT,
        reason=note,
        detail={"nominee": nominee.pk, "withdrawn": {str(k): v for k, v in withdrawn.items()}},
    )


@dataclass(frozen=True)
class JuryScores:
    """What the jury has given, as it counts now: the award's current judges with their
    categories (none: all), and each judge's complete scores (every criterion) for finalists
    in their categories, and their conflicts. The one reading progress, the score sheet and
    the blend all start from."""

    rubric: list[Rubric]
    finalists: list[Standing]
    assignments: list[AwardStaff]
    # (judge id, nominee id) -> criterion id -> score
    given: dict[tuple[int, int], dict[int, int]]
    excused: set[tuple[int, int]]

    def state(self, judge_id: int, nominee_id: int) -> str:
        if (judge_id, nominee_id) in self.excused:
            return EXCUSED
        return SCORED if (judge_id, nominee_id) in self.given else TO_SCORE


EXCUSED, SCORED, TO_SCORE, OUTSIDE = "excused", "scored", "to score", "outside"


def in_scope(assignment: AwardStaff, category_id: int) -> bool:
    chosen = {category.pk for category in assignment.categories.all()}  # prefetched
    return not chosen or category_id in chosen


def jury_scores(award: Award, *, judge: AbstractBaseUser | None = None) -> JuryScores:
    """Four queries and a prefetch, whatever the jury's size; one judge's only, if given."""
    rubric = [Rubric(item.pk, item.weight, item.scale) for item in rubric_of(award)]
    finalists = list(jury_finalists(award))
    assignments = AwardStaff.objects.filter(award=award, role=AwardStaff.Role.JUDGE)
    if judge is not None:
        assignments = assignments.filter(user=judge)
    assignments = list(
        assignments.select_related("user").prefetch_related("categories").order_by("user__username")
    )
    by_pk = {assignment.user_id: assignment for assignment in assignments}
    category_of = {row.nominee_id: row.category_id for row in finalists}
    given: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for judge_id, nominee_id, criterion_id, score in JuryScore.objects.filter(
        award=award, judge__in=list(by_pk), nominee__in=list(category_of)
    ).values_list("judge_id", "nominee_id", "criterion_id", "score"):
        # A judge taken off a category takes their scores there with them.
        if in_scope(by_pk[judge_id], category_of[nominee_id]):
            given[judge_id, nominee_id][criterion_id] = score
    complete = {item.criterion_id for item in rubric}
    excused = set(
        JuryConflict.objects.filter(award=award, judge__in=list(by_pk)).values_list(
            "judge_id", "nominee_id"
        )
    )
    return JuryScores(
        rubric=rubric,
        finalists=finalists,
        assignments=assignments,
        given={key: c for key, c in given.items() if complete and complete <= c.keys()},
        excused=excused,
    )


@dataclass
class JudgeProgress:
    judge: AbstractBaseUser
    expected: int = 0  # finalists in the judge's categories
    scored: int = 0
    excused: int = 0

    @property
    def pending(self) -> int:
        return max(self.expected - self.scored - self.excused, 0)


@dataclass
class JuryProgress:
    judges: list[JudgeProgress] = field(default_factory=list)

    @property
    def expected(self) -> int:
        return sum(judge.expected for judge in self.judges)

    @property
    def done(self) -> int:
        return sum(judge.scored + judge.excused for judge in self.judges)

    @property
    def pending(self) -> int:
        return sum(judge.pending for judge in self.judges)

    @property
    def pending_judges(self) -> list[JudgeProgress]:
        return [judge for judge in self.judges if judge.pending]


def jury_progress(award: Award) -> JuryProgress:
    """Each judge's finalists to score, scored (every criterion) and excused."""
    jury = jury_scores(award)
    progress = JuryProgress()
    for assignment in jury.assignments:
        judge = JudgeProgress(judge=assignment.user)
        for row in jury.finalists:
            if not in_scope(assignment, row.category_id):
                continue
            judge.expected += 1
            state = jury.state(assignment.user_id, row.nominee_id)
            judge.scored += state == SCORED
            judge.excused += state == EXCUSED
        progress.judges.append(judge)
    return progress


@dataclass
class ScoreSheet:
    """Every current judge's score for every finalist: what the blend averages, laid open."""

    judges: list[AbstractBaseUser]
    finalists: list[Standing]
    # (judge id, nominee id) -> the judge's score, 0..1, EXCUSED or OUTSIDE their categories;
    # absent: not scored yet.
    scores: dict[tuple[int, int], Fraction | str]

    def row(self, nominee_id: int) -> list[Fraction | str | None]:
        return [self.scores.get((judge.pk, nominee_id)) for judge in self.judges]


def score_sheet(award: Award, jury: JuryScores | None = None) -> ScoreSheet:
    jury = jury or jury_scores(award)
    scores: dict[tuple[int, int], Fraction | str] = {
        key: judge_score(criteria, jury.rubric) for key, criteria in jury.given.items()
    }
    scores.update(dict.fromkeys(jury.excused, EXCUSED))
    for assignment in jury.assignments:
        for row in jury.finalists:
            if not in_scope(assignment, row.category_id):
                scores[assignment.user_id, row.nominee_id] = OUTSIDE
    return ScoreSheet([a.user for a in jury.assignments], jury.finalists, scores)


def blended_results(award: Award, jury: JuryScores | None = None) -> dict[int, list[Blended]]:
    """Each category's finalists blended by the award's formula: category id -> rows in blended
    order. Only complete scores count (a judge who scored every criterion)."""
    jury = jury or jury_scores(award)
    scores: dict[int, list[dict[int, int]]] = defaultdict(list)
    for (_judge, nominee_id), given in sorted(jury.given.items()):
        scores[nominee_id].append(given)
    contenders: dict[int, list[Contender]] = defaultdict(list)
    for row in jury.finalists:
        contender = Contender(row.nominee_id, row.votes, tuple(scores[row.nominee_id]))
        contenders[row.category_id].append(contender)
    return {
        category_id: blend_category(
            entries, jury.rubric, jury_weight_percent=award.jury_weight_percent
        )
        for category_id, entries in contenders.items()
    }
