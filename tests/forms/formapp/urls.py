from torngas import Url, route

u = Url("tests.forms.formapp")
urls = route(
    u(r"/signup", "handlers.Signup", name="Signup"),
    u(r"/edit", "handlers.Edit", name="Edit"),
    u(r"/api/signup", "handlers.ApiSignup", name="ApiSignup"),
    u(r"/api/types", "handlers.ApiTypes", name="ApiTypes"),
    u(r"/web/json", "handlers.WebJson", name="WebJson"),
    u(r"/upload", "handlers.Upload", name="Upload"),
    u(r"/upload-form-limit", "handlers.UploadFormLimit", name="UploadFormLimit"),
)
