from torngas import Url, route

u = Url("tests.asgi.asgiapp.handlers")
urls = route(
    u(r"/", "Hello"),
    u(r"/page", "Page"),
    u(r"/stream", "Stream"),
    u(r"/release", "Release"),
    u(r"/upload", "Upload"),
    u(r"/upload-state", "UploadState"),
    u(r"/echo-body", "EchoBody"),
    u(r"/hang", "Hang"),
    u(r"/ip", "Ip"),
    u(r"/form", "Form"),
    u(r"/ws", "EchoWS"),
    u(r"/state", "State"),
    u(r"/parts", "Parts"),
    u(r"/custom-etag", "CustomEtag"),
    u(r"/no-etag", "NoEtag"),
    u(r"/status/(\d+)", "Status"),
    u(r"/body-on-204", "BodyOn204"),
    u(r"/ui", "UiModules"),
    u(r"/big", "Big"),
    u(r"/named/(?P<name>[^/]+)", "Named"),
    u(r"/header-values", "HeaderValues"),
    u(r"/own-conversion", "OwnConversion"),
    u(r"/own-hooks", "OwnHooks", kwargs={"route": "kw"}),
    u(r"/complete-only", "CompleteOnly"),
)
