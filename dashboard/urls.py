"""Dashboard routes (namespace `dashboard`), mounted at the site root."""

from __future__ import annotations

from django.urls import path

from dashboard.views import auth, chats, overview

app_name = "dashboard"

urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("chats/", chats.ChatListView.as_view(), name="chat-list"),
    path("chats/<int:pk>/", chats.ChatLiveView.as_view(), name="chat-live"),
]
