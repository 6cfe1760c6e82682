from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path, register_converter

from awards import two_factor
from awards.converters import AwardSlugConverter, NomineeSlugConverter
from laurel.health import healthz
from laurel.lib.media import media_serve
from voting.ballot import rules_views
from voting.ballot import views as ballot
from voting.integrity import report_views
from voting.integrity import views as integrity
from voting.jury import views as jury
from voting.metrics import views as metrics
from voting.organizers import exports
from voting.organizers import views as organizers
from voting.sharing import stats_views
from voting.sharing import views as sharing
from voting.standings import views as standings

admin.site.site_header = "Laurel administration"
register_converter(AwardSlugConverter, "award")
register_converter(NomineeSlugConverter, "nominee")

# Styled pages for people, JSON for the API and the vote button (laurel/lib/errors.py).
handler400 = "laurel.lib.errors.bad_request"
handler403 = "laurel.lib.errors.permission_denied"
handler404 = "laurel.lib.errors.page_not_found"
handler500 = "laurel.lib.errors.server_error"
admin.site.site_title = "Laurel"

# The organizers' own pages, beside the admin's: one prefix for a public request to pass.
admin_patterns = [
    path("two-factor/", two_factor.two_factor, name="two-factor"),
    # Passkey ceremonies (django-otp-webauthn), reached before the second factor is given.
    path("two-factor/passkeys/", include("django_otp_webauthn.urls")),
    path("integrity/<int:award_id>/", integrity.integrity_review, name="integrity-review"),
    path("jury/", jury.jury_home, name="jury-home"),
    # An invited judge sets their password here, from the link an organizer sent them.
    path("jury/welcome/<uidb64>/<token>/", jury.jury_welcome, name="jury-welcome"),
    path("results/<int:award_id>/judges/", organizers.jury_judges, name="jury-judges"),
    path(
        "results/<int:award_id>/judges/<int:staff_id>/remove/",
        organizers.jury_judge_remove,
        name="jury-judge-remove",
    ),
    path("jury/<int:award_id>/", jury.jury_award, name="jury-award"),
    path("jury/<int:award_id>/nominees/<int:nominee_id>/", jury.jury_score, name="jury-score"),
    path("dashboard/<int:award_id>/", organizers.dashboard, name="award-dashboard"),
    path("results/<int:award_id>/", organizers.results, name="results-review"),
    path("results/<int:award_id>/publish/", organizers.publish, name="results-publish"),
    path("results/<int:award_id>/jury/", organizers.judges_scores, name="jury-scores"),
    path(
        "results/<int:award_id>/categories/<int:category_id>/",
        organizers.results_category,
        name="results-category",
    ),
    path(
        "results/<int:award_id>/preview/",
        organizers.results_preview,
        name="results-preview",
    ),
    path("exports/<int:award_id>/results.csv", exports.results_csv, name="export-results"),
    path("exports/<int:award_id>/votes.csv", exports.votes_csv, name="export-votes"),
    path(
        "exports/<int:award_id>/nominee-links.csv",
        exports.nominee_links_csv,
        name="export-nominee-links",
    ),
]


# Resolving a URL tries each pattern in turn, and every request pays for it: the busiest pages
# come first, the admin, health and metrics last. Award and nominee slugs never take a reserved
# word (awards/converters.py), so no pattern here shadows another whatever their order.
def favicon_redirect(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Resolved per request: real mode's hashed name exists only once collectstatic has run.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("", standings.home, name="home"),
    path("<award:award_slug>/", standings.award_detail, name="award"),
    path("<award:award_slug>/<nominee:nominee_slug>/", ballot.nominee, name="nominee"),
    path("api/<award:award_slug>/standings/", standings.standings_api, name="standings-api"),
    path("<award:award_slug>/standings/", standings.standings, name="standings"),
    path("<award:award_slug>/<nominee:nominee_slug>/vote/", ballot.vote, name="vote"),
    path(
        "<award:award_slug>/<nominee:nominee_slug>/challenge/",
        ballot.vote_challenge,
        name="vote-challenge",
    ),
    path(
        "api/<award:award_slug>/standings/<slug:category_slug>/",
        standings.standings_api,
        name="category-standings-api",
    ),
    path(
        "api/<award:award_slug>/nominees/<nominee:nominee_slug>/",
        standings.nominee_api,
        name="nominee-api",
    ),
    path(
        "<award:award_slug>/standings/<slug:category_slug>/",
        standings.category_standings,
        name="category-standings",
    ),
    path(
        "<award:award_slug>/categories/<slug:category_slug>/",
        standings.category_detail,
        name="category",
    ),
    path("<award:award_slug>/rules/", rules_views.rules, name="rules"),
    path("<award:award_slug>/privacy/", rules_views.privacy, name="privacy"),
    path(
        "<award:award_slug>/integrity/",
        report_views.integrity_report_page,
        name="integrity-report",
    ),
    # The picture link previews show for the nominee's page (og:image).
    path(
        "<award:award_slug>/<nominee:nominee_slug>/share.png",
        sharing.share_image,
        name="share-image",
    ),
    # A nominee's share kit: badges for their site, a QR code of their link, a daily reminder.
    path(
        "<award:award_slug>/<nominee:nominee_slug>/badge.svg",
        sharing.badge,
        {"kind": "svg"},
        name="badge-svg",
    ),
    path(
        "<award:award_slug>/<nominee:nominee_slug>/badge.png",
        sharing.badge,
        {"kind": "png"},
        name="badge-png",
    ),
    path(
        "<award:award_slug>/<nominee:nominee_slug>/qr.svg",
        sharing.qr_code,
        {"kind": "svg"},
        name="qr-svg",
    ),
    path(
        "<award:award_slug>/<nominee:nominee_slug>/qr.png",
        sharing.qr_code,
        {"kind": "png"},
        name="qr-png",
    ),
    path(
        "<award:award_slug>/<nominee:nominee_slug>/reminder.ics",
        sharing.reminder,
        name="reminder",
    ),
    path(
        "<award:award_slug>/<nominee:nominee_slug>/stats/<str:token>/",
        stats_views.toolkit,
        name="nominee-stats",
    ),
    path(settings.ADMIN_URL, include(admin_patterns)),
    path(settings.ADMIN_URL, admin.site.urls),
    # Pages name their icon; some clients (feed readers, old browsers) still ask here.
    path(
        "favicon.ico",
        favicon_redirect,
        name="favicon",
    ),
    # What a vote needs, for load balancers, compose and monitors: 503 when any fails.
    path("healthz", healthz, name="healthz"),
    # Prometheus scrapes this inside the network; the proxy does not route it.
    path("metrics", metrics.metrics, name="metrics"),
    # Nominee photos are few and small; a CDN in front of Laurel caches them in real mode.
    re_path(r"^media/(?P<path>.*)$", media_serve),
]
