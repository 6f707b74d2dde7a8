"""Flattened web pages: an article and its reader comments, as text.

The layout read here (the one ``examples/southfront-syria-comments.txt`` has):

- the first line is the title; a short name-like line right under it is an image caption and
  belongs to the article; article paragraphs follow, one blank line apart;
- the article ends at the first *name line* or at the first run of two or more blank lines;
- a name line is a line on its own, between blank lines, of one to four capitalised words and
  no sentence punctuation (``John Mason``, ``Wise Gandalf``), followed by a blank line and
  text: it starts a comment by that author. Anything else is prose, so one-line comments such
  as ``Grrrrrr !!!!!!``, ``What a shocker lmao`` or ``Assad must stay (gr8rambino)`` (lower-case
  words, punctuation) stay comments. The price of the heuristic: a one-line comment that *looks*
  like a name (``Thanks Obama``) is read as an author line;
- two or more blank lines also start a new comment, anonymous unless a name line follows;
- one blank line inside a comment is a paragraph break;
- ``comment image`` lines and URL debris are attachments, not prose; a comment made only of
  them keeps them as attachments with empty text (``civility.moderate`` holds such a comment for
  a moderator without scoring it: there is no prose to score, and an image may hide anything).

Comments get the ids ``c1``..``cN`` by position, for display; the thread says so
(``positional_ids``), and the store matches them by author, parent and text instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from civility.thread import Article, Comment, Thread

# A name word starts with a capital letter (any script) and goes on with letters, digits,
# apostrophes, dots or hyphens: "O'Neill", "Jean-Luc", "J.", "Élodie".
_NAME_WORD_RE = re.compile(r"[^\W\d_][\w'’.\-]*")
_PARTICLES = frozenset("de van von der den al bin da di la le du dos".split())
_JUNK_RE = re.compile(
    r"^(?:comment image\S*|image|https?://\S+|www\.\S+|\S*(?:%[0-9A-Fa-f]{2}|&\w+=)\S*)$",
    re.IGNORECASE,
)


@dataclass
class _Block:
    lines: list[str]
    gap_before: int  # blank lines before this block (0 for the first)

    @property
    def single_line(self) -> str | None:
        return self.lines[0].strip() if len(self.lines) == 1 else None


def is_name_line(line: str) -> bool:
    """A line that names a comment's author: 1-4 capitalised words, no sentence punctuation."""
    line = line.strip()
    if not line or len(line) > 40 or line.isupper() or line.endswith("."):
        return False
    words = line.split(" ")
    if not 1 <= len(words) <= 4:
        return False
    for k, word in enumerate(words):
        if k and word in _PARTICLES:
            continue
        if not (_NAME_WORD_RE.fullmatch(word) and word[0].isupper()):
            return False
    return True


def is_junk_line(line: str) -> bool:
    """``comment image`` placeholders and bare URL debris."""
    return bool(_JUNK_RE.match(line.strip()))


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: list[str] = []
    blank = 0
    for line in text.split("\n"):
        if line.strip():
            if not current:
                blocks.append(_Block(current, blank if blocks else 0))
            current.append(line.rstrip())
            blank = 0
        else:
            if current:
                current = []
            blank += 1
    # _Block holds a reference to its list; empty trailing lists never got a block.
    return blocks


def _starts_comment(blocks: list[_Block], i: int) -> bool:
    """Is block ``i`` a name line followed, after one blank line, by prose?"""
    line = blocks[i].single_line
    return (
        line is not None
        and is_name_line(line)
        and i + 1 < len(blocks)
        and blocks[i + 1].gap_before >= 1
    )


def parse_page(text: str) -> Thread:
    """Split a flattened page into its article and comments (see the module docstring)."""
    blocks = _blocks(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not blocks:
        return Thread(article=None, comments=(), positional_ids=True)
    title = blocks[0].lines[0].strip()
    paragraphs: list[str] = []
    if len(blocks[0].lines) > 1:
        paragraphs.append("\n".join(line.strip() for line in blocks[0].lines[1:]))
    i = 1
    # A caption: a short name-like line right under the title.
    if (
        i < len(blocks)
        and blocks[i].single_line
        and is_name_line(blocks[i].lines[0])
        and blocks[i].gap_before == 1
    ):
        paragraphs.append(blocks[i].lines[0].strip())
        i += 1
    while i < len(blocks) and blocks[i].gap_before < 2 and not _starts_comment(blocks, i):
        paragraphs.append("\n".join(line.strip() for line in blocks[i].lines))
        i += 1
    article = Article(title=title, paragraphs=tuple(paragraphs))
    return Thread(article=article, comments=tuple(_comments(blocks[i:])), positional_ids=True)


def _comments(blocks: list[_Block]) -> list[Comment]:
    groups: list[tuple[str | None, list[list[str]]]] = []
    pending_author: str | None = None
    for k, block in enumerate(blocks):
        if _starts_comment(blocks, k):
            pending_author = block.lines[0].strip()
            continue
        new = not groups or block.gap_before >= 2 or pending_author is not None
        if k > 0 and blocks[k - 1].single_line is not None and pending_author is not None:
            new = True
        if new:
            groups.append((pending_author, [block.lines]))
            pending_author = None
        else:
            groups[-1][1].append(block.lines)
    comments: list[Comment] = []
    for n, (author, paras) in enumerate(groups, start=1):
        prose: list[str] = []
        junk: list[str] = []
        for lines in paras:
            kept: list[str] = []
            for line in lines:
                (junk if is_junk_line(line) else kept).append(line.strip())
            if kept:
                prose.append("\n".join(kept))
        comments.append(
            Comment(id=f"c{n}", author=author, text="\n\n".join(prose), attachments=tuple(junk))
        )
    return comments
