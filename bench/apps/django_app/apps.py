from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench.apps.django_app"
    label = "django_app"
