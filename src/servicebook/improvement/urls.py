from django.urls import path

from servicebook.improvement import views

app_name = "improvement"

urlpatterns = [
    path("", views.ImprovementListView.as_view(), name="list"),
    path("new/", views.ImprovementCreateView.as_view(), name="create"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("health/", views.HealthListView.as_view(), name="health"),
    path("health/<int:pk>/", views.HealthDetailView.as_view(), name="health-detail"),
    path("parity/", views.ParityView.as_view(), name="parity"),
    path("parity/propose/", views.ProposeParityView.as_view(), name="parity-propose"),
    path("propose-retention/", views.ProposeRetentionView.as_view(), name="propose-retention"),
    path("reviews/", views.ReviewIndexView.as_view(), name="reviews"),
    path("reviews/<int:pk>/held/", views.ReviewHeldView.as_view(), name="review-held"),
    path("reviews/<int:pk>/<str:period>/", views.ReviewPackView.as_view(), name="review-pack"),
    path(
        "reviews/<int:pk>/<str:period>/pdf/",
        views.ReviewPackPdfView.as_view(),
        name="review-pack-pdf",
    ),
    path("<int:pk>/", views.ImprovementDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ImprovementEditView.as_view(), name="edit"),
    path("<int:pk>/step/<slug:step>/", views.StepView.as_view(), name="step"),
    path("<int:pk>/drop/", views.DropView.as_view(), name="drop"),
    path("<int:pk>/verify/", views.VerifyView.as_view(), name="verify"),
    path("<int:pk>/approve/", views.ApproveView.as_view(), name="approve"),
    path("<int:pk>/participants/new/", views.ParticipantView.as_view(), name="participant"),
    path("<int:pk>/actions/new/", views.ActionCreateView.as_view(), name="action-create"),
    path("<int:pk>/actions/<int:action>/done/", views.ActionDoneView.as_view(), name="action-done"),
    path(
        "<int:pk>/actions/<int:action>/comment/",
        views.CommentView.as_view(),
        name="action-comment",
    ),
]
