from django.urls import URLPattern, URLResolver, path

from renkei.deals import views

app_name = "deals"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.board, name="board"),
    path("list/", views.deal_list, name="list"),
    path("new/", views.deal_new, name="new"),
    path("<int:pk>/", views.deal_page, name="detail"),
    path("<int:pk>/edit/", views.deal_edit, name="edit"),
    path("<int:pk>/move/", views.deal_move_view, name="move"),
    path("<int:pk>/close/", views.deal_close_view, name="close"),
    path("pipelines/", views.pipeline_list, name="pipelines"),
    path("pipelines/<int:pk>/stages/new/", views.stage_new, name="stage_new"),
    path("stages/<int:pk>/edit/", views.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
]
