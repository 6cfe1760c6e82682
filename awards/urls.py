from django.conf import settings
from django.contrib import admin
from django.urls import path, re_path
from django.views.static import serve

from voting import admin_views as voting_admin_views
from voting import share_views as voting_share_views
from voting import stats_views as voting_stats_views
from voting import views as voting_views

from . import views

admin.site.site_header = "Laurel administration"
admin.site.site_title = "Laurel"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "admin/integrity/<int:award_id>/",
        voting_admin_views.integrity_review,
        name="integrity-review",
    ),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    # Nominee photos are few and small; a CDN in front of Laurel caches them in real mode.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    path("api/<slug:award_slug>/standings/", voting_views.standings_api, name="standings-api"),
    path(
        "api/<slug:award_slug>/standings/<slug:category_slug>/",
        voting_views.standings_api,
        name="category-standings-api",
    ),
    path(
        "api/<slug:award_slug>/nominees/<slug:nominee_slug>/",
        voting_views.nominee_api,
        name="nominee-api",
    ),
    path("<slug:award_slug>/", views.award_detail, name="award"),
    path("<slug:award_slug>/standings/", voting_views.standings, name="standings"),
    path(
        "<slug:award_slug>/standings/<slug:category_slug>/",
        voting_views.category_standings,
        name="category-standings",
    ),
    path(
        "<slug:award_slug>/categories/<slug:category_slug>/",
        views.category_detail,
        name="category",
    ),
    path("<slug:award_slug>/<slug:nominee_slug>/", voting_views.nominee, name="nominee"),
    path("<slug:award_slug>/<slug:nominee_slug>/vote/", voting_views.vote, name="vote"),
    # The picture link previews show for the nominee's page (og:image).
    path(
        "<slug:award_slug>/<slug:nominee_slug>/share.png",
        voting_views.share_image,
        name="share-image",
    ),
    # A nominee's share kit: badges for their site, a QR code of their link, a daily reminder.
    path(
        "<slug:award_slug>/<slug:nominee_slug>/badge.svg",
        voting_share_views.badge,
        {"kind": "svg"},
        name="badge-svg",
    ),
    path(
        "<slug:award_slug>/<slug:nominee_slug>/badge.png",
        voting_share_views.badge,
        {"kind": "png"},
        name="badge-png",
    ),
    path(
        "<slug:award_slug>/<slug:nominee_slug>/qr.svg",
        voting_share_views.qr_code,
        {"kind": "svg"},
        name="qr-svg",
    ),
    path(
        "<slug:award_slug>/<slug:nominee_slug>/qr.png",
        voting_share_views.qr_code,
        {"kind": "png"},
        name="qr-png",
    ),
    path(
        "<slug:award_slug>/<slug:nominee_slug>/reminder.ics",
        voting_share_views.reminder,
        name="reminder",
    ),
    path(
        "<slug:award_slug>/<slug:nominee_slug>/stats/<str:token>/",
        voting_stats_views.stats,
        name="nominee-stats",
    ),
]
