"""Tracking URLs, all under /t/ (CORS applies to /t/, see settings.CORS_URLS_REGEX)."""

from django.urls import URLPattern, URLResolver, path

from renkei.tracking import views

app_name = "tracking"
urlpatterns: list[URLPattern | URLResolver] = [
    path("t/renkei.js", views.script, name="script"),
    path("t/collect", views.collect, name="collect"),
    path("t/c/<str:token>", views.click, name="click"),
    path("t/setup/", views.setup, name="setup"),
]
