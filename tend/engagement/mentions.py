"""Mentions of people in a note: `@Full Name` (spaces and any script: `@山田 裕紀`, `@山田さん`)
or `@local-part` of their email (`@yuki.tanaka`), never the `@` inside an email address."""

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# An "@" starts a mention unless it follows a letter, digit or one of an address's characters.
_START = re.compile(r"(?<![\w.+\-@])@")
# What may not follow a name in Latin script ("@yukix" is not "@yuki"); other scripts need no space.
_ASCII_WORD = re.compile(r"[A-Za-z0-9_\-@]")


@dataclass(frozen=True)
class Mention:
    user_id: int
    start: int  # of the "@"
    end: int


def _handles() -> list[tuple[str, int]]:
    """(lower-cased name or email local part, user id) of every active user, longest first."""
    handles = []
    for pk, full_name, email in get_user_model().objects.filter(is_active=True).values_list("pk", "full_name", "email"):
        if full_name.strip():
            handles.append((" ".join(full_name.split()).lower(), pk))
        local = email.partition("@")[0]
        if local:
            handles.append((local.lower(), pk))
    handles.sort(key=lambda h: -len(h[0]))
    return handles


def _ends_there(text: str, end: int) -> bool:
    if end >= len(text):
        return True
    following = text[end]
    if following == ".":  # "@yuki." ends a sentence; "@yuki.tanaka" is another handle
        return end + 1 >= len(text) or not text[end + 1].isalnum()
    return not _ASCII_WORD.match(following)


def find_mentions(text: str) -> list[Mention]:
    """The mentions in `text`, in order; at each "@" the longest name or handle that ends there."""
    if "@" not in text:
        return []
    starts = [m.start() for m in _START.finditer(text)]
    if not starts:
        return []
    handles = _handles()
    lowered = text.lower()  # not casefold(): it changes lengths ("ß"), and the offsets must hold
    found = []
    for at in starts:
        rest = lowered[at + 1 : at + 201]
        for handle, user_id in handles:
            end = at + 1 + len(handle)
            if rest.startswith(handle) and _ends_there(text, end):
                found.append(Mention(user_id=user_id, start=at, end=end))
                break
    return found


def mentioned_user_ids(text: str) -> list[int]:
    return list(dict.fromkeys(m.user_id for m in find_mentions(text)))


def highlight_mentions(text: str) -> SafeString:
    """The text, escaped, with each mention marked (for the timeline)."""
    parts, last = [], 0
    for m in find_mentions(text):
        parts.append(escape(text[last : m.start]))
        parts.append(f'<mark class="mention" data-testid="mention">{escape(text[m.start : m.end])}</mark>')
        last = m.end
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped
