from django.contrib.auth import views as auth_views
from django.urls import path

from renkei.accounts import views
from renkei.accounts.forms import ThrottledAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=ThrottledAuthenticationForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", views.api_tokens, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", views.api_token_revoke_view, name="api_token_revoke"),
    path("users/", views.users, name="users"),
    path("users/<int:pk>/role/", views.user_role_view, name="user_role"),
]
