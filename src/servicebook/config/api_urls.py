"""The REST API: one router; each domain app offers its viewsets through ``ports.api_routes``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from servicebook import ports
from servicebook.web.signin import ObtainTokenView

router = DefaultRouter()
for routes in ports.api_routes:
    for prefix, viewset, basename in routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
