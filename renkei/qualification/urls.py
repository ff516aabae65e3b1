from django.urls import path

from renkei.qualification import views

app_name = "qualification"
urlpatterns = [
    path("", views.policy_page, name="index"),
    path("policy/edit/", views.policy_edit, name="policy_edit"),
    path("run/", views.run, name="run"),
]
