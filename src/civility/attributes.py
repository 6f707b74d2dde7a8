"""The attribute registry: Perspective's names, what each means, and its status."""

from __future__ import annotations

from dataclasses import dataclass

from civility.errors import UnknownAttribute


@dataclass(frozen=True)
class Attribute:
    """One scored attribute, named as Perspective names it."""

    name: str
    description: str
    experimental: bool = False


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "TOXICITY",
        "A rude, disrespectful or unreasonable comment likely to make people leave a discussion.",
    ),
    Attribute(
        "SEVERE_TOXICITY",
        "A very hateful, aggressive or disrespectful comment; far less sensitive to mild profanity.",
    ),
    Attribute(
        "IDENTITY_ATTACK",
        "Negative or hateful comments targeting someone because of their identity.",
    ),
    Attribute(
        "INSULT",
        "An insulting, inflammatory or negative comment towards a person or a group of people.",
    ),
    Attribute("PROFANITY", "Swear words, curse words or other obscene or profane language."),
    Attribute(
        "THREAT",
        "Describes an intention to inflict pain, injury or violence against an individual or group.",
    ),
    Attribute(
        "SEXUALLY_EXPLICIT", "Contains references to sexual acts, body parts or other lewd content."
    ),
    Attribute(
        "FLIRTATION",
        "Pickup lines, complimenting appearance, subtle sexual innuendos, etc.",
        experimental=True,
    ),
    Attribute(
        "SPAM", "Irrelevant and unsolicited commercial content, links or junk.", experimental=True
    ),
)

NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)

# Perspective's names for the experimental versions of its production attributes: civility
# answers each with the production head, under the name asked for.
EXPERIMENTAL_ALIASES: dict[str, str] = {
    f"{name}_EXPERIMENTAL": name
    for name in ("TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT")
}

# Attributes Perspective knows and civility does not serve: the Perspective door refuses them
# as Perspective refuses an attribute it does not serve in the request's language.
UNSERVED: frozenset[str] = frozenset(
    """
    ATTACK_ON_AUTHOR ATTACK_ON_COMMENTER INCOHERENT INFLAMMATORY LIKELY_TO_REJECT
    OBSCENE UNSUBSTANTIAL AFFINITY_EXPERIMENTAL COMPASSION_EXPERIMENTAL CURIOSITY_EXPERIMENTAL
    NUANCE_EXPERIMENTAL PERSONAL_STORY_EXPERIMENTAL REASONING_EXPERIMENTAL RESPECT_EXPERIMENTAL
    """.split()
)
_BY_NAME = {a.name: a for a in ATTRIBUTES}


def get(name: str) -> Attribute:
    """Return the attribute called ``name`` (case-insensitive, as Perspective's clients upper-case)."""
    key = name.strip().upper()
    try:
        return _BY_NAME[key]
    except KeyError:
        raise UnknownAttribute(f"Unknown requested attribute: {name}") from None


def normalize_names(names: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Upper-case and validate attribute names; ``None`` means every attribute."""
    if names is None:
        return NAMES
    return tuple(get(n).name for n in names)
