"""The REST API: one router for every app's viewsets."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from servicebook.agreements.api import AgreementLineViewSet, AgreementViewSet
from servicebook.catalog.api import OfferingViewSet, ServiceViewSet
from servicebook.parties.api import ContactViewSet, CustomerViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("services", ServiceViewSet, basename="service")
router.register("offerings", OfferingViewSet, basename="offering")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("agreement-lines", AgreementLineViewSet, basename="agreementline")

urlpatterns = [
    path("token/", obtain_auth_token, name="api-token"),
    path("", include(router.urls)),
]
