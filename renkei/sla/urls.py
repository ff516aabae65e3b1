from django.urls import URLPattern, URLResolver, path

from renkei.sla import views

app_name = "sla"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.agreement_list, name="list"),
    path("new/", views.agreement_new, name="new"),
    path("<int:pk>/edit/", views.agreement_edit, name="edit"),
    path("<int:pk>/approve/", views.agreement_approve_view, name="approve"),
    path("<int:pk>/retire/", views.agreement_retire_view, name="retire"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/edit/", views.calendar_edit, name="calendar_edit"),
    path("calendar/holidays/new/", views.holiday_add, name="holiday_add"),
    path("calendar/holidays/<int:pk>/delete/", views.holiday_delete, name="holiday_delete"),
    path("compliance/", views.compliance, name="compliance"),
]
