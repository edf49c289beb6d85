"""Chats API routes for members: POST /api/chats/<chat_id>/messages/ (sandbox chats)."""

from __future__ import annotations

from django.urls import path

from chats.api.views import MemberPostView

urlpatterns = [
    path("chats/<int:chat_id>/messages/", MemberPostView.as_view(), name="chat-member-post"),
]
