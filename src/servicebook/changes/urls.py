from django.urls import path

from servicebook.changes import views
from servicebook.changes.deliverables import views as deliverable_views

app_name = "changes"

urlpatterns = [
    path("", views.ChangeListView.as_view(), name="list"),
    path("new/", views.ChangeCreateView.as_view(), name="create"),
    path("schedule/", views.ScheduleView.as_view(), name="schedule"),
    path("schedule/<int:customer>/rotate/", views.FeedRotateView.as_view(), name="rotate-feed"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("<int:pk>/", views.ChangeDetailView.as_view(), name="detail"),
    # deliverables and their acceptance (decision 0023)
    path(
        "agreements/<int:pk>/deliverables/new/",
        deliverable_views.DeliverableCreateView.as_view(),
        name="deliverable-create",
    ),
    path(
        "deliverables/<int:pk>/decide/",
        deliverable_views.DeliverableDecideView.as_view(),
        name="deliverable-decide",
    ),
    path("<int:pk>/step/<slug:step>/", views.StepView.as_view(), name="step"),
    path("<int:pk>/assess/", views.AssessView.as_view(), name="assess"),
    path("<int:pk>/it-decision/", views.ITDecisionView.as_view(), name="it-decision"),
    path("<int:pk>/window/", views.WindowView.as_view(), name="window"),
    path("<int:pk>/tasks/new/", views.TaskCreateView.as_view(), name="task-create"),
    path("<int:pk>/trainings/new/", views.TrainingCreateView.as_view(), name="training-create"),
    path(
        "<int:pk>/impacts/<int:impact>/decide/",
        views.ImpactDecisionView.as_view(),
        name="impact-decide",
    ),
    path(
        "<int:pk>/impacts/<int:impact>/accept-price/",
        views.AcceptPriceView.as_view(),
        name="impact-accept-price",
    ),
    path(
        "<int:pk>/impacts/<int:impact>/price/", views.PriceImpactView.as_view(), name="impact-price"
    ),
]
