from django.urls import URLPattern, URLResolver, path

from renkei.journey import views

app_name = "journey"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.journey_index, name="index"),
    path("stages/new/", views.stage_create, name="stage_create"),
    path("stages/<int:pk>/edit/", views.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
]
