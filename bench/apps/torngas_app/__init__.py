"""torngas contenders: one project, varied by environment (see settings.py).

``python -m bench.apps.torngas_app --port=N [--processes=N]`` starts it through
``torngas.webserver.run`` (the README's ``runserver.py``), so command-line
parsing, settings, logging set-up and the multi-process supervisor are the
real ones.
"""
