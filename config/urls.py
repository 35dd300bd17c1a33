from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

admin.site.site_header = "News archive administration"
admin.site.site_title = "News archive admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Pages name their icon; a browser showing a JSON answer (the API, an export) asks for
    # /favicon.ico instead, which would be a 404 in the log on every such visit.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("archive/favicon.svg"), permanent=True),
        name="favicon",
    ),
    path("", include("archive.urls")),
]
