import pytest

from torngas.apps import load_urls
from torngas.exceptions import ImproperlyConfigured, UrlError
from torngas.testing import serve


def test_urls_and_URLS_both_accepted():
    with serve(INSTALLED_APPS=["tests.test_apps.hello", "tests.test_apps.upper"]) as client:
        assert client.get("/").text == "hello"
        assert client.get("/upper").text == "upper"


def test_app_without_urls_py():
    with pytest.raises(UrlError) as info:
        load_urls(["tests.test_apps.nourls"])
    assert "'tests.test_apps.nourls' has no urls.py" in str(info.value)


def test_missing_app():
    with pytest.raises(ImproperlyConfigured, match="'no_such_app' cannot be imported"):
        load_urls(["no_such_app"])


def test_app_that_fails_to_import_names_cause():
    with pytest.raises(ImproperlyConfigured, match="app module exploded"):
        load_urls(["tests.test_apps.badimport"])


def test_duplicate_route_name_names_both_apps():
    with pytest.raises(UrlError) as info:
        load_urls(["tests.test_apps.hello", "tests.test_apps.dup"])
    msg = str(info.value)
    assert "duplicate route name 'Index'" in msg
    assert "tests.test_apps.hello" in msg and "tests.test_apps.dup" in msg


def test_bad_handler_path_in_app():
    with pytest.raises(UrlError) as info:
        load_urls(["tests.test_apps.badhandler"])
    msg = str(info.value)
    assert "tests.test_apps.badhandler.urls" in msg and "DoesNotExist" in msg
