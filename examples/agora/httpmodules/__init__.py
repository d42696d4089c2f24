"""Project HTTP modules: listed in ROUTE_MODULES (settings) for the routes they guard."""
