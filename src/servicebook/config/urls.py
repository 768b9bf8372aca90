from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from servicebook import ports
from servicebook.web.forms import LoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # single sign-on with the organization's OpenID Connect provider (servicebook.web.sso)
    path("sso/", include("servicebook.web.sso")),
    path("admin/", admin.site.urls),
    path("api/", include("servicebook.config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # Each domain app mounts its pages under its prefix (AppConfig.ready(), servicebook.ports).
    *[path(prefix, include(urlconf)) for prefix, urlconf in ports.pages],
    path("", include("servicebook.web.urls")),
]

# Refusals and errors render inside the layout with their reason (servicebook.web.errors).
handler400 = "servicebook.web.errors.bad_request"
handler403 = "servicebook.web.errors.permission_denied"
handler404 = "servicebook.web.errors.page_not_found"
handler500 = "servicebook.web.errors.server_error"
