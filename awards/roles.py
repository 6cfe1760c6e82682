"""Who may do what in the admin, award by award.

Two groups, created by a migration, grant the model permissions: "Organizers" (everything on
an award) and "Moderators" (the integrity review: read votes, hold, void or restore them). An
AwardStaff row says which awards a staff account works on and in which role; a superuser runs
every award without one. Every admin page and custom admin view asks this module, so one
award's staff cannot see or touch another award.
"""

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.contrib import admin
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from awards.models import Award, AwardStaff, Category
from laurel.lib.net import client_address

ORGANIZER = AwardStaff.Role.ORGANIZER
MODERATOR = AwardStaff.Role.MODERATOR
JUDGE = AwardStaff.Role.JUDGE
# Organizers moderate their awards too; judging is a role of its own (voting/jury/).
ROLES_AT_LEAST = {ORGANIZER: [ORGANIZER], MODERATOR: [ORGANIZER, MODERATOR], JUDGE: [JUDGE]}


def awards_for(user: AbstractBaseUser | AnonymousUser, *, role: str = MODERATOR) -> QuerySet:
    """The awards this user works on in this role or a wider one; all of them for superusers."""
    if not (user.is_active and user.is_staff):
        return Award.objects.none()
    if user.is_superuser:
        return Award.objects.all()
    return Award.objects.filter(staff__user=user, staff__role__in=ROLES_AT_LEAST[role])


def may_run(user: AbstractBaseUser | AnonymousUser, award_id: int | None, *, role: str) -> bool:
    return award_id is not None and awards_for(user, role=role).filter(pk=award_id).exists()


def award_for_user_or_404(request: HttpRequest, award_id: int, *, role: str) -> Award:
    """The award, if the signed-in user works on it in this role; a 404 otherwise, so that
    another award's staff do not even learn that it exists."""
    award = awards_for(request.user, role=role).filter(pk=award_id).first()
    if award is None:
        raise Http404("No such award among yours.")
    return award


class AwardScopedAdmin:
    """Put before admin.ModelAdmin: the rows of the user's own awards only, whatever the URL.

    ``award_field`` leads from the model to its award ("pk" for Award itself). Reading needs
    ``view_role`` on the row's award, changing or deleting needs ``change_role``; choices of
    award and category in forms are the user's own.
    """

    award_field = "award"
    view_role = ORGANIZER
    change_role = ORGANIZER

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # A POST acts on what it picks (an action, a list edit): only rows it may change.
        role = self.change_role if request.method == "POST" else self.view_role
        awards = awards_for(request.user, role=role).values("pk")
        return queryset.filter(**{f"{self.award_field}__in": awards})

    def award_id_of(self, obj) -> int | None:
        return obj.pk if self.award_field == "pk" else getattr(obj, f"{self.award_field}_id")

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        role = self.view_role
        return allowed and (obj is None or may_run(request.user, self.award_id_of(obj), role=role))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        role = self.change_role
        return allowed and (obj is None or may_run(request.user, self.award_id_of(obj), role=role))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        role = self.change_role
        return allowed and (obj is None or may_run(request.user, self.award_id_of(obj), role=role))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        awards = awards_for(request.user, role=self.change_role)
        if db_field.related_model is Award:
            kwargs["queryset"] = awards
        elif db_field.related_model is Category:
            kwargs["queryset"] = Category.objects.filter(award__in=awards.values("pk"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OwnAwardsFilter(admin.RelatedFieldListFilter):
    """A list filter on an award or category naming only the user's own awards' ones."""

    def field_choices(self, field, request, model_admin):
        awards = awards_for(request.user, role=getattr(model_admin, "view_role", MODERATOR))
        if field.related_model is Award:
            return [(award.pk, str(award)) for award in awards.order_by("name")]
        categories = Category.objects.filter(award__in=awards.values("pk")).select_related("award")
        return [
            (category.pk, f"{category.award.name} · {category.name}")
            for category in categories.order_by("award__name", "display_order", "name")
        ]


class LoginThrottle(AxesStandaloneBackend):
    """django-axes's check, for logins over HTTP; a login made in code (a shell, a test
    client's login()) has no request, no address to lock out, and goes on to the password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def admin_login_address(request: HttpRequest) -> str:
    """The client address django-axes counts failed admin logins against: the same answer the
    vote caps use (behind a trusted proxy, the client, not the proxy), as text axes can store."""
    if not (request.META.get("REMOTE_ADDR") or request.META.get("HTTP_X_FORWARDED_FOR")):
        return ""  # a login made in code (a test, a shell): no client at all
    address = client_address(request)
    if address is None:
        return ""
    if address.version == 6:
        # One host holds a whole /64: 2^64 addresses are one attacker's, counted as one.
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)
