from django.conf import settings
from django.contrib import admin
from django.urls import path, re_path
from django.views.static import serve

from voting import admin_views as voting_admin_views
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
]
