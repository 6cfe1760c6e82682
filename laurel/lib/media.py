"""Nominees' photos where no nginx serves them (embedded mode, or a web container on its own):
pictures only, with the headers nginx gives them (deploy/nginx/locations.conf)."""

from pathlib import PurePosixPath

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.static import serve

PICTURES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    """A stored picture, never sniffed as anything else and allowed to run nothing: whatever a
    file under MEDIA_ROOT holds, it cannot become a page of this site."""
    if PurePosixPath(path).suffix.lower() not in PICTURES:
        raise Http404("Not a picture")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
