from django.urls import URLPattern, URLResolver

app_name = "journey"
urlpatterns: list[URLPattern | URLResolver] = []
