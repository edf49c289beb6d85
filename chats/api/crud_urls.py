"""Chats API routes: /api/chats/, /api/chats/<chat_pk>/memberships/, /api/messages/."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from chats.api import crud

router = SimpleRouter()
router.register("chats", crud.ChatViewSet, basename="chat")
router.register(r"chats/(?P<chat_pk>[0-9]+)/memberships", crud.MembershipViewSet, basename="chat-membership")
router.register("messages", crud.MessageViewSet, basename="message")

urlpatterns = router.urls
