"""runserver.py of the test project (run from the repository root)."""

from torngas.webserver import run

if __name__ == "__main__":
    run()
