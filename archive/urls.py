from django.urls import path

from archive import exports, feeds, views

app_name = "archive"

urlpatterns = [
    path("", views.search_page, name="search"),
    path("documents/<int:pk>/", views.document_detail, name="document-short"),
    path("documents/<int:pk>/<slug:slug>/", views.document_detail, name="document"),
    path("api/search", views.api_search, name="api-search"),
    path("facets/<str:name>", views.facet_values, name="facet-values"),
    path("persons/", views.person_by_name, name="person-by-name"),
    path("persons/<slug:slug>/", views.person_page, name="person"),
    path("export.csv", exports.export_csv, name="export-csv"),
    path("export.json", exports.export_json, name="export-json"),
    path("feeds/search", feeds.search_feed, name="feed-search"),
]
