from django.urls import URLPattern, URLResolver, path

from renkei.handoff import views

app_name = "handoff"
urlpatterns: list[URLPattern | URLResolver] = [
    path("inbox/", views.inbox, name="inbox"),
    path("leads/<int:pk>/accept/", views.accept, name="accept"),
    path("leads/<int:pk>/reject/", views.reject, name="reject"),
    path("leads/<int:pk>/touch/", views.touch, name="touch"),
    path("leads/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("leads/", views.leads, name="leads"),
    path("fairness/", views.fairness, name="fairness"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("reps/", views.rep_list, name="reps"),
    path("reps/<int:user_id>/", views.rep_edit, name="rep_edit"),
    path("teams/new/", views.team_edit, name="team_new"),
    path("teams/<int:pk>/", views.team_edit, name="team_edit"),
    path("results/", views.results, name="results"),
    path("queue/", views.queue, name="queue"),
    path("queue/<int:pk>/", views.queue_action, name="queue_action"),
]
