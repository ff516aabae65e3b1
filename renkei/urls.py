from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from renkei.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("renkei.accounts.urls")),
    path("contacts/", include("renkei.contacts.urls")),
    path("campaigns/", include("renkei.campaigns.urls")),
    path("imports/", include("renkei.imports.urls")),
    path("scoring/", include("renkei.scoring.urls")),
    path("personas/", include("renkei.personas.urls")),
    path("journey/", include("renkei.journey.urls")),
    path("qualification/", include("renkei.qualification.urls")),
    path("handoff/", include("renkei.handoff.urls")),
    path("sla/", include("renkei.sla.urls")),
    path("deals/", include("renkei.deals.urls")),
    # Public capture endpoints: /f/ (web forms) and /t/ (tracking); CORS applies to these.
    path("", include("renkei.capture.urls")),
    path("", include("renkei.tracking.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)
