"""Crowd portability: a whole crowd (bots, what they know, chats, runtime settings) as one versioned JSON document."""
