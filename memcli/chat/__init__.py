"""A chat over the memory engine: `Chat` (the turn pipeline, chat.py; the memory work on each
turn, memory_work.py) and the one way to open one, `open_chat` (opening.py), with
`ingest_conversation` for a dated conversation export.

"Chat" is this object; a *session* is one sitting of a conversation (`session_id` on each
event, a scripted session file in sample_sessions/, a LoCoMo session).
"""

from memcli.chat.chat import Chat, TurnResult, llm_allowed
from memcli.chat.memory_work import FILL_DEPTH
from memcli.chat.opening import ingest_conversation, open_chat

__all__ = ["FILL_DEPTH", "Chat", "TurnResult", "ingest_conversation", "llm_allowed", "open_chat"]
