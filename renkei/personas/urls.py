from django.urls import URLPattern, URLResolver

app_name = "personas"
urlpatterns: list[URLPattern | URLResolver] = []
