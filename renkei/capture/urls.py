from django.urls import URLPattern, URLResolver

app_name = "capture"
urlpatterns: list[URLPattern | URLResolver] = []
