"""Capture URLs, included at the site root: the public form endpoints under /f/ (CORS
applies there), the marketer's pages under /forms/, the admin's under /settings/capture/."""

from django.urls import URLPattern, URLResolver, path

from renkei.capture import public, views

app_name = "capture"
urlpatterns: list[URLPattern | URLResolver] = [
    path("f/<str:key>/", public.form_page, name="form"),
    path("f/<str:key>/submit", public.form_submit, name="submit"),
    path("f/<str:key>/thanks", public.thanks_page, name="thanks"),
    path("forms/", views.webform_list, name="list"),
    path("forms/new/", views.webform_new, name="create"),
    path("forms/<int:pk>/", views.webform_detail, name="detail"),
    path("forms/<int:pk>/edit/", views.webform_edit, name="edit"),
    path("forms/<int:pk>/delete/", views.webform_delete_view, name="delete"),
    path("settings/capture/", views.capture_settings_view, name="settings"),
]
