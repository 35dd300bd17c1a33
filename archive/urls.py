from django.urls import path

from archive import exports, feeds, views

app_name = "archive"

urlpatterns = [
    path("", views.search_page, name="search"),
    path("documents/<int:pk>/", views.document_detail, name="document-short"),
    path("documents/<int:pk>/<slug:slug>/", views.document_detail, name="document"),
    # The file a scan's text was read from: by document, never by path (see the view).
    path("documents/<int:pk>/original", views.document_original, name="document-original"),
    path("api/search", views.api_search, name="api-search"),
    path("facets/<str:name>", views.facet_values, name="facet-values"),
    # One page per person, organisation and place (one view, one template); by-name links
    # redirect to them. NamedEntity.get_absolute_url reverses "archive:<kind>[-by-name]".
    path("persons/", views.entity_by_name, {"kind": "person"}, name="person-by-name"),
    path("persons/<slug:slug>/", views.entity_page, {"kind": "person"}, name="person"),
    path(
        "organisations/",
        views.entity_by_name,
        {"kind": "organisation"},
        name="organisation-by-name",
    ),
    path(
        "organisations/<slug:slug>/",
        views.entity_page,
        {"kind": "organisation"},
        name="organisation",
    ),
    path("places/", views.entity_by_name, {"kind": "place"}, name="place-by-name"),
    path("places/<slug:slug>/", views.entity_page, {"kind": "place"}, name="place"),
    path("export.csv", exports.export_csv, name="export-csv"),
    path("export.json", exports.export_json, name="export-json"),
    path("feeds/search", feeds.search_feed, name="feed-search"),
]
