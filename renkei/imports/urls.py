from django.urls import URLPattern, URLResolver, path

from renkei.imports import views

app_name = "imports"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.import_list, name="list"),
    path("new/", views.import_upload, name="upload"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/preview/", views.import_preview, name="preview"),
    path("<int:pk>/confirm/", views.import_confirm, name="confirm"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/retry/", views.import_retry, name="retry"),
    path("<int:pk>/errors.csv", views.import_errors, name="errors"),
]
