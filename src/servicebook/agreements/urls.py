from django.urls import path

from servicebook.agreements import views
from servicebook.agreements.lifecycle import views as lifecycle
from servicebook.agreements.orders import views as orders

app_name = "agreements"

urlpatterns = [
    path("", views.AgreementListView.as_view(), name="list"),
    path("new/", views.AgreementCreateView.as_view(), name="create"),
    path("<int:pk>/", views.AgreementDetailView.as_view(), name="detail"),
    path("<int:pk>/lines/new/", views.LineCreateView.as_view(), name="line-create"),
    path("<int:pk>/status/", views.AgreementStatusView.as_view(), name="status"),
    path("<int:pk>/sign/", views.SignView.as_view(), name="sign"),
    path("<int:pk>/outcomes/new/", views.OutcomeView.as_view(), name="outcome"),
    path("<int:pk>/acknowledge/", views.AcknowledgeView.as_view(), name="acknowledge"),
    path("<int:pk>/consideration/", views.ConsiderationView.as_view(), name="consideration"),
    path("<int:pk>/amend/", views.AmendView.as_view(), name="amend"),
    # the contract's whole life (decision 0023)
    path("<int:pk>/renew/", lifecycle.RenewView.as_view(), name="renew"),
    path("<int:pk>/notice/", lifecycle.NoticeView.as_view(), name="notice"),
    # service level settings (issue 18)
    path("<int:pk>/targets/new/", views.TargetCreateView.as_view(), name="target-create"),
    path("targets/<int:pk>/credits/", views.CreditTiersView.as_view(), name="credit-tiers"),
    path("<int:pk>/clauses/new/", views.ClauseCreateView.as_view(), name="clause-create"),
    path("calendars/", views.CalendarListView.as_view(), name="calendars"),
    path("calendars/new/", views.CalendarCreateView.as_view(), name="calendar-create"),
    path("calendars/<int:pk>/", views.CalendarDetailView.as_view(), name="calendar"),
    path("calendars/<int:pk>/edit/", views.CalendarEditView.as_view(), name="calendar-edit"),
    # customer orders (issue 15)
    path("orders/", orders.OrderListView.as_view(), name="orders"),
    path("orders/new/", orders.OrderCreateView.as_view(), name="order-create"),
    path("orders/<int:pk>/", orders.OrderDetailView.as_view(), name="order"),
    path("orders/<int:pk>/decide/", orders.OrderDecideView.as_view(), name="order-decide"),
]
