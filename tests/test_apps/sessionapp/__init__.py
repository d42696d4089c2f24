"""Test app for sessions, flash messages, auth and redirects (tests/sessions)."""
