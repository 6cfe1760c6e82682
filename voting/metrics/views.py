"""/metrics for Prometheus, never for the public: the proxy does not route it (deploy/nginx),
and Laurel answers it only to a scraper it can tell apart from the public."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from laurel.lib.scrapers import scraper_allowed
from voting.metrics.collector import LaurelCollector


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not scraper_allowed(request):
        return HttpResponse(
            "Metrics are served only to METRICS_ALLOWED addresses, or with METRICS_TOKEN as a "
            "bearer token.\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LaurelCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
