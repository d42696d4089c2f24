"""Agora in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Skipped when Chromium or Playwright is missing, a failure with
TORNGAS_REQUIRE_SERVICES=1. Screenshots of the main pages go to $AGORA_SCREENSHOTS
when it is set (the committed ones: AGORA_SCREENSHOTS=docs/img), else to tmp_path.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.examples.conftest import post_form, signup
from tests.services import unavailable

CHROMIUM = os.environ.get("TORNGAS_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery"


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        unavailable(f"{CHROMIUM} is not installed (scripts/install-services installs chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def shots(tmp_path):
    target = Path(os.environ.get("AGORA_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)

    def shot(page, name):
        page.screenshot(path=str(target / f"agora-{name}.png"), full_page=True)

    return shot


def new_page(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport={"width": 1100, "height": 720})
    context.set_default_timeout(10_000)
    return context.new_page()


def flash(page) -> str:
    return page.inner_text("#flashed")


def test_sign_up_post_page_chat_log_out(agora, browser, shots):
    base = agora.server.url
    # bob writes 11 posts over plain HTTP, so there is a list to page through.
    signup(agora, "bob")
    for i in range(1, 12):
        assert (
            post_form(agora, "/posts/new", title=f"Bob's post #{i}", body=f"Text {i}.").status_code
            == 302
        )

    ann = new_page(browser, base)
    ann.goto("/")
    ann.click("text=Sign up")
    # A form with errors ...
    ann.fill("#username", "ann!")
    ann.fill("#password", "short")
    ann.fill("#confirm", "shorter")
    ann.click("button:has-text('Create account')")
    ann.wait_for_selector(".field.has-errors")
    assert "Letters, digits and _ only." in ann.inner_text("main")
    assert "Passwords differ." in ann.inner_text("main")
    shots(ann, "signup-errors")
    # ... fixed.
    ann.fill("#username", "ann")
    ann.fill("#password", PASSWORD)
    ann.fill("#confirm", PASSWORD)
    ann.click("button:has-text('Create account')")
    ann.wait_for_url(base + "/")
    assert flash(ann) == "Welcome to Agora, ann!"

    # New post: errors first, then published.
    ann.click("text=New post")
    ann.click("button:has-text('Publish')")
    ann.wait_for_selector(".field.has-errors")
    assert ann.locator(".errors li", has_text="This field is required.").count() == 2
    shots(ann, "new-post-errors")
    ann.fill("#title", "Hello Agora")
    ann.fill("#body", "My first post.\nWritten in a real browser.")
    ann.click("button:has-text('Publish')")
    ann.wait_for_url(base + "/")
    assert flash(ann) == "Your post is on the board."
    assert ann.inner_text(".post h2 >> nth=0") == "Hello Agora"
    assert ann.inner_text("#top-posters").count("\n") >= 2  # bob and ann
    shots(ann, "board")

    # Page through the list (12 posts, 10 a page).
    assert ann.locator(".post").count() == 10
    ann.click("text=Older")
    ann.wait_for_url(base + "/?page=2")
    assert ann.locator(".post").count() == 2
    assert "page 2 of 2" in ann.inner_text(".pager")
    ann.click("text=Newer")
    ann.wait_for_url(base + "/?page=1")

    # Log out and in again.
    ann.click("#logout")
    ann.wait_for_selector("#flashed")
    assert flash(ann) == "You are logged out. See you soon!"
    ann.click("text=Chat")  # login required: to the login page, and back after it
    ann.wait_for_url("**/login?next=%2Fchat")
    ann.fill("#username", "ann")
    ann.fill("#password", "not the password")
    ann.click("button:has-text('Log in')")
    ann.wait_for_selector(".flash-error")
    shots(ann, "login-error")
    ann.fill("#password", PASSWORD)
    ann.click("button:has-text('Log in')")
    ann.wait_for_url(base + "/chat")
    assert flash(ann) == "Welcome back, ann!"

    # Chat between two browsers (two contexts: separate cookies).
    bob = new_page(browser, base)
    bob.goto("/login")
    bob.fill("#username", "bob")
    bob.fill("#password", "correct horse battery")
    bob.click("button:has-text('Log in')")
    bob.wait_for_url(base + "/")
    bob.click("text=Chat")
    bob.wait_for_selector("#chat[data-ready]")
    ann.wait_for_selector("#chat[data-ready]")
    ann.wait_for_selector("#messages li:has-text('bob joined')")
    ann.fill("#text", "Hi bob! <b>not bold</b>")
    ann.press("#text", "Enter")
    bob.wait_for_selector("#messages li:has-text('ann: Hi bob! <b>not bold</b>')")
    assert bob.locator("#messages b").count() == 0  # text, not HTML
    bob.fill("#text", "Hello ann")
    bob.click("#say button")
    ann.wait_for_selector("#messages li:has-text('bob: Hello ann')")
    shots(ann, "chat")

    ann.click("#logout")
    ann.wait_for_selector("#flashed")
    assert flash(ann) == "You are logged out. See you soon!"
    assert ann.locator("text=Log in").count() == 1
