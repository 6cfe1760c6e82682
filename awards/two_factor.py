"""Two-factor sign-in for the accounts that can change an award or its results: superusers,
organizers and judges.

With STAFF_TWO_FACTOR (on in real mode), such an account that has signed in with its password
reaches no admin page until it has also given a second factor: a passkey (WebAuthn, with
django-otp-webauthn), a code from its authenticator app (TOTP, with django-otp), or one of its
recovery codes. The first time, the same page enrols a passkey or the app (a QR code, the key
as text, one code to confirm), then shows ten single-use recovery codes, once. Moderators, who
can only hold and restore votes, sign in with their password alone.
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import split_domain_port
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from awards.models import AwardStaff

RECOVERY_CODES = 10
APP_DEVICE = "Authenticator app"
RECOVERY_DEVICE = "Recovery codes"


def two_factor_needed(user: AbstractBaseUser) -> bool:
    """Whether this signed-in account must give a second factor before the admin."""
    if not (settings.STAFF_TWO_FACTOR and user.is_authenticated and user.is_staff):
        return False
    if user.is_superuser:
        return True
    # Organizers change an award; judges decide part of its results.
    roles = [AwardStaff.Role.ORGANIZER, AwardStaff.Role.JUDGE]
    return AwardStaff.objects.filter(user=user, role__in=roles).exists() or (
        user.groups.filter(name="Organizers").exists()
    )


def two_factor_required(get_response):
    """Sends a superuser or organizer who has not given a second factor to give it, from
    every admin page (the organizers' own pages under ADMIN_URL included)."""
    admin_root = "/" + settings.ADMIN_URL

    def middleware(request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith(admin_root) and _gated(path) and not _verified(request):
            return HttpResponseRedirect(
                reverse("two-factor") + "?" + urlencode({"next": request.get_full_path()})
            )
        return get_response(request)

    return middleware


def _gated(path: str) -> bool:
    # The pages that lead to the second factor (its passkey ceremonies too), or away from the
    # admin, stay open.
    if path.startswith(reverse("two-factor")):
        return False
    return path not in {reverse("admin:login"), reverse("admin:logout")}


def _verified(request: HttpRequest) -> bool:
    user = request.user
    # is_verified() first: it is read from the session, the role needs queries.
    return user.is_verified() or not two_factor_needed(user)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


@never_cache
@login_required(login_url="admin:login")
def two_factor(request: HttpRequest) -> HttpResponse:
    """Give the second factor, or enrol an authenticator app the first time."""
    user = request.user
    after = _next(request)
    if _verified(request):
        if two_factor_needed(user) and not _has_recovery_codes(user):
            # Enrolled with a passkey, whose ceremony ends here: the codes, once.
            context = {"codes": recovery_codes_issue(user), "next": after}
            return render(request, "admin/laurel/two_factor_codes.html", context)
        return HttpResponseRedirect(after)
    form = CodeForm(request.POST or None)
    if not user_has_device(user, confirmed=True):
        return _enrol(request, form, after)
    if form.is_valid():
        device = match_token(user, form.cleaned_data["code"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            return HttpResponseRedirect(after)
        form.add_error("code", "That code is not right, or was used already. Try the next one.")
    passkey = WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    context = {"form": form, "next": after, "passkey": passkey}
    return render(request, "admin/laurel/two_factor.html", context)


def _enrol(request: HttpRequest, form: CodeForm, after: str) -> HttpResponse:
    user = request.user
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": APP_DEVICE}
    )
    if form.is_valid():
        if device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = recovery_codes_issue(user)
            otp_login(request, device)
            context = {"codes": codes, "next": after}
            return render(request, "admin/laurel/two_factor_codes.html", context)
        form.add_error("code", "That code is not right: check the app's clock, then try again.")
    import segno  # only for enrolment

    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    context = {
        "form": form,
        "next": after,
        "enrol": True,
        "qr": qr,
        "key": _grouped(device.bin_key),
    }
    return render(request, "admin/laurel/two_factor.html", context)


def _has_recovery_codes(user: AbstractBaseUser) -> bool:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE).exists()


def recovery_codes_issue(user: AbstractBaseUser) -> list[str]:
    """Ten new single-use codes for when the app is lost; earlier ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _grouped(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _next(request: HttpRequest) -> str:
    after = request.POST.get("next") or request.GET.get("next") or reverse("admin:index")
    if url_has_allowed_host_and_scheme(after, {request.get_host()}, request.is_secure()):
        return after
    return reverse("admin:index")


# --- Passkeys ------------------------------------------------------------------------------


def passkey_site(request: HttpRequest) -> str:
    """The relying party of a passkey: the host the admin is reached at, without its port.
    (A password alone never adds a passkey beside another factor: django-otp-webauthn asks
    an enrolled account for its second factor first.)"""
    return split_domain_port(request.get_host())[0]


class PasskeyHelper(WebAuthnHelper):
    def get_allowed_origins(self) -> list[str]:
        # The origin this request came to, which ALLOWED_HOSTS has already vouched for.
        return [f"{self.request.scheme}://{self.request.get_host()}"]
