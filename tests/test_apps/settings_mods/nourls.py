INSTALLED_APPS = ("tests.test_apps.nourls",)
