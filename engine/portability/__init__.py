"""Crowd portability: a whole crowd (bots, what they know, chats, runtime settings) as one versioned JSON document."""

# Settings in the document (the chats' own too) are stored only for a role that may change them (an admin).
from accounts.roles import CHANGE_SETTING

# Reading a crowd needs what reading its parts needs; importing needs what editing them needs (an operator).
EXPORT_PERMISSIONS = ("bots.view_bot", "chats.view_chat", "chats.view_membership", "engine.view_setting")
IMPORT_PERMISSIONS = (
    *("bots.add_bot", "bots.change_bot", "chats.add_chat", "chats.change_chat"),
    *("chats.add_membership", "chats.change_membership"),
)
__all__ = ["CHANGE_SETTING", "EXPORT_PERMISSIONS", "IMPORT_PERMISSIONS"]
