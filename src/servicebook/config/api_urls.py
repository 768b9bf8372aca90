"""The REST API: one router; each app lists its viewsets in ``ROUTES`` in its ``api`` module."""

from importlib import import_module
from importlib.util import find_spec

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from servicebook.web.signin import ObtainTokenView

API_APPS = [
    "parties",
    "catalog",
    "agreements",
    "levels",
    "finance",
    "changes",
    "demand",
    "improvement",
]

router = DefaultRouter()
for app in API_APPS:
    module_name = f"servicebook.{app}.api"
    if find_spec(module_name) is None:
        continue
    for prefix, viewset, basename in import_module(module_name).ROUTES:
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
