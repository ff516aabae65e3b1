from django.urls import URLPattern, URLResolver, path

from renkei.personas import views

app_name = "personas"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.persona_list, name="list"),
    path("new/", views.persona_new, name="new"),
    path("<int:pk>/", views.persona_detail, name="detail"),
    path("<int:pk>/versions/new/", views.version_new, name="version_new"),
    path("versions/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path("versions/<int:pk>/approve/", views.version_approve, name="version_approve"),
    path("versions/<int:pk>/retire/", views.version_retire, name="version_retire"),
]
