from django.urls import path

from archive import views

app_name = "archive"

urlpatterns = [
    path("", views.search_page, name="search"),
    path("documents/<int:pk>/", views.document_detail, name="document-short"),
    path("documents/<int:pk>/<slug:slug>/", views.document_detail, name="document"),
    path("api/search", views.api_search, name="api-search"),
]
