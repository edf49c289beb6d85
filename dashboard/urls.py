"""Dashboard routes (namespace `dashboard`), mounted at the site root."""

from __future__ import annotations

from django.urls import path

from dashboard.views import (
    auth,
    bot_parts,
    bots,
    cards,
    chats,
    chats_edit,
    connect,
    crowd,
    events,
    operator_tools,
    overview,
    settings,
    turns,
)

app_name = "dashboard"

urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("connect/", connect.ConnectView.as_view(), name="connect"),
    path("connect/chats.json", connect.ConnectChatsView.as_view(), name="connect-chats"),
    path("connect/chats/<int:pk>/", connect.ConnectChatView.as_view(), name="connect-chat"),
    path("chats/", chats.ChatListView.as_view(), name="chat-list"),
    path("chats/<int:pk>/", chats.ChatLiveView.as_view(), name="chat-live"),
    path("chats/<int:pk>/events/", chats.ChatEventsView.as_view(), name="chat-events"),
    path("chats/new/", chats_edit.ChatCreateView.as_view(), name="chat-new"),
    path("chats/<int:pk>/edit/", chats_edit.ChatEditView.as_view(), name="chat-edit"),
    path("chats/<int:pk>/overrides/", chats_edit.ChatOverridesView.as_view(), name="chat-overrides"),
    path("chats/<int:pk>/delete/", chats_edit.ChatDeleteView.as_view(), name="chat-delete"),
    path(
        "chats/<int:pk>/memberships/",
        chats_edit.ChatMembershipView.as_view(),
        {"action": "add"},
        name="chat-membership-add",
    ),
    path(
        "chats/<int:pk>/memberships/<int:item>/",
        chats_edit.ChatMembershipView.as_view(),
        {"action": "edit"},
        name="chat-membership-edit",
    ),
    path(
        "chats/<int:pk>/memberships/<int:item>/delete/",
        chats_edit.ChatMembershipView.as_view(),
        {"action": "delete"},
        name="chat-membership-delete",
    ),
    path("bots/", bots.BotListView.as_view(), name="bot-list"),
    path("bots/new/", bots.BotCreateView.as_view(), name="bot-new"),
    path("bots/generate/", operator_tools.PersonaGenerateView.as_view(), name="persona-generate"),
    path("bots/generate/review/", operator_tools.PersonaReviewView.as_view(), name="persona-review"),
    path("bots/<int:pk>/interview/", operator_tools.BotInterviewView.as_view(), name="bot-interview"),
    path("bots/new/card/", cards.BotFromCardView.as_view(), name="bot-from-card"),
    path("crowd/", crowd.CrowdView.as_view(), name="crowd"),
    path("crowd/export/", crowd.CrowdExportView.as_view(), name="crowd-export"),
    path("bots/<int:pk>/", bots.BotDetailView.as_view(), name="bot-detail"),
    path("bots/<int:pk>/delete/", bots.BotDeleteView.as_view(), name="bot-delete"),
    path("bots/<int:pk>/telegram-check/", connect.BotTelegramCheckView.as_view(), name="bot-telegram-check"),
    path(
        "bots/<int:pk>/memberships/",
        bot_parts.BotMembershipView.as_view(),
        {"action": "add"},
        name="bot-membership-add",
    ),
    path(
        "bots/<int:pk>/memberships/<int:item>/",
        bot_parts.BotMembershipView.as_view(),
        {"action": "edit"},
        name="bot-membership-edit",
    ),
    path(
        "bots/<int:pk>/memberships/<int:item>/delete/",
        bot_parts.BotMembershipView.as_view(),
        {"action": "delete"},
        name="bot-membership-delete",
    ),
    # <kind> is stances, holdings or memories.
    path(
        "bots/<int:pk>/<slug:kind>/",
        bot_parts.BotKnowledgeView.as_view(),
        {"action": "add"},
        name="bot-knowledge-add",
    ),
    path(
        "bots/<int:pk>/<slug:kind>/<int:item>/",
        bot_parts.BotKnowledgeView.as_view(),
        {"action": "edit"},
        name="bot-knowledge-edit",
    ),
    path(
        "bots/<int:pk>/<slug:kind>/<int:item>/delete/",
        bot_parts.BotKnowledgeView.as_view(),
        {"action": "delete"},
        name="bot-knowledge-delete",
    ),
    path("events/", events.EventListView.as_view(), name="events"),
    path("events/<int:pk>/cancel/", events.EventCancelView.as_view(), name="event-cancel"),
    path("turns/", turns.TurnListView.as_view(), name="turn-list"),
    path("turns/<int:pk>/", turns.TurnDetailView.as_view(), name="turn-detail"),
    path("settings/", settings.SettingsView.as_view(), name="settings"),
]
