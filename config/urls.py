from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

admin.site.site_header = "News archive administration"
admin.site.site_title = "News archive admin"


def favicon(request: HttpRequest) -> HttpResponse:
    """Pages name their icon; a browser showing a JSON answer (the API, an export) asks for
    /favicon.ico instead, a 404 in the log on every such visit. The address is looked up when
    asked (under hashed names it needs collectstatic's manifest, which a check may run before)."""
    return redirect(static("archive/favicon.svg"), permanent=True)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("archive.urls")),
]
