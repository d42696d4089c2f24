from django.urls import path

from bench import common
from bench.apps.django_app import views

urlpatterns = [
    path(f"{p[1:]}/<int:n>" if d else p[1:], views.filler)
    for p, d in common.filler_routes(common.route_count())
] + [
    path("json", views.json_view),
    path("page", views.page),
    path("full", views.full),
    path("plaintext", views.plaintext),  # last: the routes suite times it
]
