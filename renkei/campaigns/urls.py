from django.urls import path

from renkei.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="create"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
]
