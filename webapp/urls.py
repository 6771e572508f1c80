from django.conf import settings
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from webapp import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("review/", views.review_page, name="review"),
    path("review/decide/", views.decide, name="decide"),
    path("review/undo/<int:decision_id>/", views.undo, name="undo"),
    path("audit/", views.audit, name="audit"),
    path("restricted/", views.restricted, name="restricted"),
    path("quality/", views.quality, name="quality"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
if getattr(settings, "OIDC_ENABLED", False):
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
