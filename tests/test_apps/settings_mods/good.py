DEBUG = True
MY_SETTING = "from-module"
INSTALLED_APPS = ("tests.test_apps.hello",)
lowercase_ignored = 1
