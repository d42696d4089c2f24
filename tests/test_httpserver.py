"""Proxy headers (XHEADERS) are believed only from TRUSTED_PROXIES, on both
transports (this module runs in the Tornado pass and in the ASGI pass)."""

import logging

from torngas.testing import serve

APP = ["tests.asgi.asgiapp"]  # /ip answers {"ip": remote_ip, "protocol": protocol}
SPOOF = {"X-Forwarded-For": "1.2.3.4", "X-Real-Ip": "5.6.7.8", "X-Scheme": "https"}


def test_a_client_cannot_choose_its_ip_or_scheme_when_the_peer_is_not_a_trusted_proxy(caplog):
    with (
        caplog.at_level(logging.INFO),
        serve(
            INSTALLED_APPS=APP,
            MIDDLEWARE_CLASSES=["torngas.middleware.accesslog.AccessLogMiddleware"],
            XHEADERS=True,
            TRUSTED_PROXIES=("10.0.0.1",),
        ) as client,
    ):
        assert client.get("/ip", headers=SPOOF).json() == {"ip": "127.0.0.1", "protocol": "http"}
        assert client.get("/ip", headers={"X-Real-Ip": "5.6.7.8"}).json()["ip"] == "127.0.0.1"
    lines = [r.getMessage() for r in caplog.records if r.name == "torngas.access"]
    assert lines and all("(127.0.0.1)" in line for line in lines), lines


def test_a_trusted_proxy_is_believed_walking_x_forwarded_for_from_the_right():
    with serve(
        INSTALLED_APPS=APP, XHEADERS=True, TRUSTED_PROXIES=("127.0.0.1", "10.0.0.0/8")
    ) as client:
        r = client.get("/ip", headers={"X-Forwarded-For": "9.9.9.9, 8.8.8.8, 10.1.2.3"})
        assert r.json() == {"ip": "8.8.8.8", "protocol": "http"}
        r = client.get("/ip", headers={"X-Real-Ip": "5.6.7.8", "X-Forwarded-Proto": "https"})
        assert r.json() == {"ip": "5.6.7.8", "protocol": "https"}
        # the next request on the same kept-alive connection starts from the peer again
        assert client.get("/ip").json() == {"ip": "127.0.0.1", "protocol": "http"}


def test_without_xheaders_the_headers_mean_nothing_even_from_a_trusted_peer():
    with serve(INSTALLED_APPS=APP, XHEADERS=False, TRUSTED_PROXIES=("127.0.0.1",)) as client:
        assert client.get("/ip", headers=SPOOF).json() == {"ip": "127.0.0.1", "protocol": "http"}
