from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from bench import common
from bench.apps.django_app.models import Item


def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(common.PLAINTEXT, content_type="text/plain")


def json_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(common.JSON_PAYLOAD)


def page(request: HttpRequest) -> HttpResponse:
    visits = common.visits_from_cookie(request.COOKIES.get(common.COOKIE_NAME))
    response = render(request, common.PAGE_TEMPLATE, common.page_context(visits))
    response.set_cookie(common.COOKIE_NAME, str(visits))
    return response


def full(request: HttpRequest) -> HttpResponse:
    visits = int(request.session.get(common.SESSION_KEY, 0)) + 1
    request.session[common.SESSION_KEY] = visits
    items = Item.objects.filter(category=common.full_category(visits)).only("id", "name", "price")
    rows = [(r.id, r.name, r.price) for r in items.order_by("id")[:10]]
    return render(request, common.FULL_TEMPLATE, common.full_context(visits, rows))


def filler(request: HttpRequest, n: int = 0) -> HttpResponse:
    return HttpResponse("filler")
