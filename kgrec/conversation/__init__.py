"""Conversational recommendation: what a person asks for, in English, grounded in the graph.

:class:`RequestParser` (rule-based, deterministic, offline) or :class:`LanguageModelParser`
(any ``prompt -> JSON`` callable, its answer checked against the graph) turn text into a
:class:`Request` whose every id was found by an :class:`EntityLinker`.
"""

from kgrec.conversation.conversation import Conversation, ConversationState, Turn
from kgrec.conversation.language_model import LanguageModelParser
from kgrec.conversation.linking import FUZZY_THRESHOLD, GENRE_ALIASES, EntityLinker
from kgrec.conversation.meaning import TEXT_VECTOR_PROPERTY, MeaningHit, MeaningSearch
from kgrec.conversation.request import MATCH_KINDS, STANCES, Mention, Reference, Request, Role
from kgrec.conversation.understanding import MAX_REQUEST_CHARS, RequestParser

__all__ = [
    "Conversation",
    "ConversationState",
    "Turn",
    "FUZZY_THRESHOLD",
    "GENRE_ALIASES",
    "MATCH_KINDS",
    "MAX_REQUEST_CHARS",
    "STANCES",
    "TEXT_VECTOR_PROPERTY",
    "EntityLinker",
    "LanguageModelParser",
    "MeaningHit",
    "MeaningSearch",
    "Mention",
    "Reference",
    "Request",
    "RequestParser",
    "Role",
]
