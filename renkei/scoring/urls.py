from django.urls import path

from renkei.scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("rescore/", views.rescore, name="rescore"),
    path("contacts/<int:pk>/explain.json", views.contact_explain, name="contact_explain"),
]
