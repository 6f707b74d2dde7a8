"""A batch's features counted over word ids: the blocks' own numbers, without a Python loop
over the words of every text.

Every distinct word gets an id the first time a batch holds it, and with the id everything
the blocks need to know about it: its lexicon categories, the word the n-gram blocks see in
its place (source artefacts dropped, identity words replaced; see ``preprocess``), that
word's unigram column, its place in bigram columns and its character n-gram columns. A
batch's features are then numpy operations over its array of word ids and two sparse
products; only words never seen before cost Python work. Up to :data:`MAX_WORDS` distinct
words are kept; past that the table starts again empty.

:func:`supported` says whether a model's blocks are of the kinds counted here (word n-grams
up to bigrams over whitespace tokens, character n-grams inside word boundaries, the
lexicon); the blocks' own ``transform`` serves any other model. tests/test_features.py
checks that the two give the same matrices to the bit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from itertools import chain, repeat
from typing import Any

import numpy as np
import scipy.sparse as sp

from civility.model import lexicon
from civility.model.blocks import FeatureBlock
from civility.model.lexicon import LexiconBlock

IntArray = np.ndarray[Any, np.dtype[np.int64]]

MAX_WORDS = 100_000
_PICKLED = ("blocks", "view", "_bigram_parts", "_bigram_keys", "_bigram_columns")


class _Column:
    """A growing int64 array (amortised appends, numpy view of what is filled)."""

    def __init__(self) -> None:
        self._data = np.empty(1024, dtype=np.int64)
        self.size = 0

    def extend(self, values: Sequence[int]) -> None:
        need = self.size + len(values)
        if need > len(self._data):
            grown = np.empty(max(need, 2 * len(self._data)), dtype=np.int64)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = values
        self.size = need

    @property
    def array(self) -> IntArray:
        return self._data[: self.size]


def supported(blocks: Sequence[Any]) -> bool:
    """True when every block is a plain word block (``\\S+`` tokens, n-grams of at most two
    words), a plain ``char_wb`` block or the lexicon block."""
    for block in blocks:
        if isinstance(block, LexiconBlock):
            continue
        if not isinstance(block, FeatureBlock) or not block.plain():
            return False
        vec = block.vectorizer()
        if vec.analyzer == "word":
            if vec.token_pattern != r"\S+" or vec.stop_words is not None or vec.ngram_range[1] > 2:
                return False
        elif vec.analyzer != "char_wb":
            return False
    return True


class Tokens:
    """A batch's words as ids of one word table: ``ids`` every whitespace token of every text
    in order, ``doc_ptr`` where each text's tokens start (``len(texts) + 1`` entries), and
    ``words`` the table itself (id -> word; a table that started again empty is a new list,
    so the ids always index the list they came with)."""

    __slots__ = ("doc_ptr", "ids", "words")

    def __init__(self, ids: IntArray, doc_ptr: IntArray, words: list[str]) -> None:
        self.ids = ids
        self.doc_ptr = doc_ptr
        self.words = words


class TokenFeatures:
    """Counts a supported model's features for batches of normalised texts."""

    def __init__(self, blocks: Sequence[Any], view: Callable[[str], str | None]) -> None:
        self.blocks = list(blocks)
        self.view = view
        # Bigram columns per word block: the words of a bigram become parts (ids), and a pair
        # of parts one sorted int64 key.
        self._bigram_parts: dict[str, int] = {}
        self._bigram_keys: dict[int, IntArray] = {}
        self._bigram_columns: dict[int, IntArray] = {}
        parts = self._bigram_parts
        for k, block in enumerate(self.blocks):
            if isinstance(block, LexiconBlock) or block.vectorizer().analyzer != "word":
                continue
            keys: list[int] = []
            columns: list[int] = []
            for term, column in block.vocabulary.items():
                pair = term.split(" ")
                if len(pair) == 2:
                    a = parts.setdefault(pair[0], len(parts))
                    b = parts.setdefault(pair[1], len(parts))
                    keys.append(a * (1 << 32) + b)
                    columns.append(column)
            order = np.argsort(keys)
            self._bigram_keys[k] = np.asarray(keys, dtype=np.int64)[order]
            self._bigram_columns[k] = np.asarray(columns, dtype=np.int64)[order]
        self._lock = threading.Lock()  # the server scores from several threads
        self._reset()

    def __getstate__(self) -> dict[str, Any]:
        # A pickled model (a process pool, Spark) carries no lock and starts with an empty table.
        return {k: v for k, v in self.__dict__.items() if k in _PICKLED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        # Per word (what texts hold): its id, lexicon bits, 5-digit runs and seen-as id.
        self._word_id: dict[str, int] = {}
        self._words: list[str] = []  # id -> word (a new list after every reset)
        self._bits = _Column()
        self._digit_runs = _Column()
        self._seen_as = _Column()  # id of the word the n-gram blocks see, -1 for none
        # Per seen-as word: unigram column (per word block), bigram part, char n-gram rows.
        self._seen_id: dict[str, int] = {}
        self._unigram = [_Column() for _ in self.blocks]
        self._part = _Column()
        self._char_indices = [_Column() for _ in self.blocks]
        self._char_ptr = [_Column() for _ in self.blocks]
        self._char_counts_of = [_Column() for _ in self.blocks]
        for ptr in self._char_ptr:
            ptr.extend([0])

    def _learn(self, words: set[str]) -> None:
        """Give ids (and everything the blocks need) to words not seen before."""
        new = [w for w in words if w not in self._word_id]
        if not new:
            return
        seen_as: list[int] = []
        fresh: list[str] = []
        for word in new:
            self._word_id[word] = len(self._word_id)
            self._words.append(word)
            shown = self.view(word)
            if shown is None:
                seen_as.append(-1)
                continue
            sid = self._seen_id.get(shown)
            if sid is None:
                sid = self._seen_id[shown] = len(self._seen_id)
                fresh.append(shown)
            seen_as.append(sid)
        self._bits.extend([lexicon.word_bits(w) for w in new])
        self._digit_runs.extend([lexicon.word_digit_runs(w) for w in new])
        self._seen_as.extend(seen_as)
        self._part.extend([self._bigram_parts.get(w, -1) for w in fresh])
        for k, block in enumerate(self.blocks):
            if isinstance(block, LexiconBlock):
                continue
            column = block.vocabulary.get
            if block.vectorizer().analyzer == "word":
                self._unigram[k].extend(list(map(column, fresh, repeat(-1))))
                continue
            # Each fresh word's n-gram columns, duplicates summed: one row of counts.
            grams = list(map(block.vectorizer().build_analyzer(), fresh))
            columns = np.fromiter(
                map(column, chain.from_iterable(grams), repeat(-1)), dtype=np.int64
            )
            owners = np.repeat(np.arange(len(fresh)), list(map(len, grams)))
            known = columns >= 0
            rows = _count_matrix([owners[known]], [columns[known]], len(fresh), block.size)
            self._char_ptr[k].extend(rows.indptr[1:] + self._char_indices[k].size)
            self._char_indices[k].extend(rows.indices)
            self._char_counts_of[k].extend(rows.data.astype(np.int64))

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The blocks' features of ``texts`` side by side, as ``block_features`` gives them."""
        return self.transform_tokens(texts)[0]

    def transform_tokens(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, Tokens]:
        """:meth:`transform`, and the texts' words as ids of the table (for a site adapter's
        own n-grams: :class:`civility.adapt.BaseOutputs`)."""
        with self._lock:
            return self._transform(texts)

    def _transform(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, Tokens]:
        if not texts:
            empty = sp.csr_matrix((0, sum(block.size for block in self.blocks)), dtype=np.float64)
            return empty, Tokens(np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64), [])
        split = [t.split() for t in texts]
        flat = list(chain.from_iterable(split))
        words = set(flat)
        if len(self._word_id) + len(words) > MAX_WORDS:
            self._reset()
        self._learn(words)
        doc_ptr = np.zeros(len(split) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in split], out=doc_ptr[1:])
        ids = np.fromiter(map(self._word_id.__getitem__, flat), dtype=np.int64, count=len(flat))
        # What the n-gram blocks see: the seen-as words, artefacts left out.
        seen = self._seen_as.array[ids]
        kept = seen >= 0
        seen_doc = np.repeat(np.arange(len(split)), np.diff(doc_ptr))[kept]
        seen = seen[kept]
        parts = []
        for k, block in enumerate(self.blocks):
            if isinstance(block, LexiconBlock):
                rows = lexicon.batch_features(
                    self._bits.array[ids], self._digit_runs.array[ids], doc_ptr
                )
                parts.append(sp.csr_matrix(rows * block.scale))
                continue
            if block.vectorizer().analyzer == "word":
                counts = self._word_counts(k, block, seen, seen_doc, len(split))
            else:
                counts = self._char_counts(k, block, seen, seen_doc, len(split))
            parts.append(block.weigh(counts))
        return sp.csr_matrix(sp.hstack(parts, format="csr")), Tokens(ids, doc_ptr, self._words)

    def _word_counts(
        self, k: int, block: Any, seen: IntArray, doc: IntArray, n_docs: int
    ) -> sp.csr_matrix:
        low, high = block.vectorizer().ngram_range
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        if low <= 1:
            unigram = self._unigram[k].array[seen]
            hit = unigram >= 0
            rows.append(doc[hit])
            cols.append(unigram[hit])
        bigram_keys, bigram_columns = self._bigram_keys[k], self._bigram_columns[k]
        if high >= 2 and len(seen) > 1 and bigram_keys.size:
            part = self._part.array[seen]
            a, b = part[:-1], part[1:]
            pair = (doc[:-1] == doc[1:]) & (a >= 0) & (b >= 0)
            keys = a[pair] * (1 << 32) + b[pair]
            at = np.minimum(np.searchsorted(bigram_keys, keys), len(bigram_keys) - 1)
            hit = bigram_keys[at] == keys
            rows.append(doc[:-1][pair][hit])
            cols.append(bigram_columns[at[hit]])
        return _count_matrix(rows, cols, n_docs, block.size)

    def _char_counts(
        self, k: int, block: Any, seen: IntArray, doc: IntArray, n_docs: int
    ) -> sp.csr_matrix:
        # (texts x the batch's distinct words) @ (those words x n-grams), the second gathered
        # from the kept rows.
        words, where = np.unique(seen, return_inverse=True)
        docs = _count_matrix([doc], [where.reshape(-1)], n_docs, len(words))
        ptr = self._char_ptr[k].array
        begin, lengths = ptr[words], ptr[words + 1] - ptr[words]
        indptr = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        take = np.arange(indptr[-1]) + np.repeat(begin - indptr[:-1], lengths)
        grams = sp.csr_matrix(
            (
                self._char_counts_of[k].array[take].astype(np.float64),
                self._char_indices[k].array[take],
                indptr,
            ),
            shape=(len(words), block.size),
        )
        counts = sp.csr_matrix(docs @ grams)
        counts.sort_indices()
        return counts


def _count_matrix(
    rows: list[IntArray], cols: list[IntArray], n_rows: int, n_cols: int
) -> sp.csr_matrix:
    """Occurrences (row, column) -> a canonical count matrix: duplicates summed, columns sorted."""
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(len(r), dtype=np.float64), (r, c)), shape=(n_rows, n_cols))
    matrix.sum_duplicates()
    return matrix
