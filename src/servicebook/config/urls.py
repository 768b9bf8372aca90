from importlib.util import find_spec

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from servicebook.web.forms import LoginForm

#: Each app's pages live under its own prefix (apps without pages yet are skipped).
APP_PAGES = [
    ("customers/", "parties"),
    ("catalog/", "catalog"),
    ("agreements/", "agreements"),
    ("service-levels/", "levels"),
    ("finance/", "finance"),
    ("changes/", "changes"),
    ("demand/", "demand"),
    ("improvement/", "improvement"),
]

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("servicebook.config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *[
        path(prefix, include(f"servicebook.{app}.urls"))
        for prefix, app in APP_PAGES
        if find_spec(f"servicebook.{app}.urls") is not None
    ],
    path("", include("servicebook.web.urls")),
]

# Refusals and errors render inside the layout with their reason (servicebook.web.errors).
handler400 = "servicebook.web.errors.bad_request"
handler403 = "servicebook.web.errors.permission_denied"
handler404 = "servicebook.web.errors.page_not_found"
handler500 = "servicebook.web.errors.server_error"
