"""Code shared by the apps (not an installed app: it has no urls.py)."""
