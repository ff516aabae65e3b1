from django.urls import path

from renkei.contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new/", views.contact_create, name="create"),
    path("export/", views.contact_export, name="export"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/merge/", views.duplicates_merge, name="duplicates_merge"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/timeline/", views.contact_timeline_part, name="timeline"),
    path("<int:pk>/stage/", views.contact_stage, name="stage"),
    path("<int:pk>/owner/", views.contact_owner, name="owner"),
    path("<int:pk>/activity/", views.contact_activity, name="activity"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete_view, name="delete"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<int:pk>/", views.company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company_edit"),
    path("companies/<int:pk>/owner/", views.company_owner, name="company_owner"),
    path("companies/<int:pk>/delete/", views.company_delete_view, name="company_delete"),
]
