"""Templated training sentences that teach what the corpora cannot.

The corpora carry almost no threats (about a hundred), few civil mentions of identity groups
and no news-style reports of violence. These templates, written for civility, fill those
gaps: harmless mentions of every group (labelled non-toxic, against identity bias), attacks
on groups, threats against people, news reports of killing (not threats), targeted insults
and civil disagreement. They are kept apart from the evaluation bias set
(:mod:`civility.train.bias` uses other templates) so the bias figures are not measured on
training sentences.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pandas as pd

from civility.attributes import NAMES

CORPUS = "civility_templates"

GROUPS_PLURAL = (
    "muslims",
    "jews",
    "black people",
    "gay people",
    "women",
    "immigrants",
    "trans people",
    "disabled people",
    "refugees",
    "christians",
    "mexicans",
    "asians",
    "arabs",
    "lesbians",
    "hindus",
    "atheists",
    "old people",
    "white people",
    "catholics",
    "africans",
    "latinos",
    "bisexual people",
    "deaf people",
    "sikhs",
    "chinese people",
    "indians",
    "gays",
    "migrants",
)
GROUPS_ADJ = (
    "muslim",
    "jewish",
    "black",
    "gay",
    "trans",
    "disabled",
    "queer",
    "lesbian",
    "christian",
    "mexican",
    "asian",
    "arab",
    "hindu",
    "white",
    "bisexual",
    "deaf",
    "blind",
    "latino",
    "transgender",
    "homosexual",
    "catholic",
    "african",
    "chinese",
    "sikh",
    "buddhist",
)
TARGETS = (
    "the president",
    "putin",
    "assad",
    "that senator",
    "the mayor",
    "him",
    "her",
    "the judge",
    "erdogan",
    "the prime minister",
    "that journalist",
    "the governor",
    "obama",
    "trump",
    "the minister",
    "that cop",
    "the general",
    "the author of this article",
)
KILL_VERBS = (
    "kill",
    "assassinate",
    "shoot",
    "hang",
    "murder",
    "behead",
    "stab",
    "lynch",
    "execute",
    "strangle",
)
KILL_PAST = (
    "killed",
    "assassinated",
    "shot",
    "hanged",
    "murdered",
    "beheaded",
    "stabbed",
    "lynched",
    "executed",
    "strangled",
)
INSULTS = (
    "idiot",
    "moron",
    "fool",
    "loser",
    "clown",
    "imbecile",
    "dimwit",
    "hypocrite",
    "liar",
    "coward",
    "jerk",
    "piece of garbage",
    "waste of space",
    "dumbass",
    "scumbag",
    "halfwit",
)
DEHUMANISING = (
    "vermin",
    "animals",
    "rats",
    "cockroaches",
    "parasites",
    "subhuman",
    "savages",
    "filth",
    "a plague",
    "a disease",
    "an infestation",
    "inferior",
    "barbarians",
    "apes",
)


def _rows() -> list[tuple[str, dict[str, float]]]:
    rows: list[tuple[str, dict[str, float]]] = []
    clean = {
        "TOXICITY": 0.0,
        "SEVERE_TOXICITY": 0.0,
        "IDENTITY_ATTACK": 0.0,
        "INSULT": 0.0,
        "THREAT": 0.0,
    }

    def add(text: str, **labels: float) -> None:
        rows.append((text, labels))

    neutral_plural = (
        "{g} live in my town",
        "the council met with {g} from the neighbourhood",
        "there are many {g} on the city council",
        "this article is about {g} in our country",
        "{g} have the right to vote like everyone else",
        "the survey asked {g} about the economy",
        "{g} worked hard to rebuild the town after the flood",
        "I went to school with lots of {g}",
        "the new law affects {g} and everyone else",
        "several {g} spoke at the hearing",
    )
    neutral_adj = (
        "I am a {a} person",
        "as a {a} woman I agree with this article",
        "my {a} friend told me about it",
        "{a} families have lived here for generations",
        "I was raised by {a} parents",
        "a {a} man wrote a letter to the editor",
        "my doctor is {a}",
        "I'm {a} and I vote",
        "our {a} neighbours invited us to dinner",
        "she is {a} and a great teacher",
        "being {a} is part of who I am",
        "the {a} community held a fundraiser",
    )
    hateful_plural = (
        "{g} are {d}",
        "{g} are nothing but {d}",
        "get rid of all the {g}",
        "I despise all {g}",
        "{g} ruin everything they touch",
        "never trust {g}",
        "send the {g} back where they came from",
        "{g} don't belong in this country",
        "{g} are too stupid to vote",
        "{g} are a cancer on society",
        "I can't stand {g}, they are {d}",
        "{g} should not be allowed to live here",
    )
    hateful_adj = (
        "no {a} person should ever be trusted",
        "{a} people are {d}",
        "I would never hire a {a} person, they are {d}",
        "typical {a} scum",
        "{a} people make me sick",
    )
    rng = random.Random(7)
    violent_group = ("{g} should be {k}", "all {g} deserve to be {k}", "we should {v} all the {g}")
    for tpl in neutral_plural:
        for g in GROUPS_PLURAL:
            add(tpl.format(g=g), **clean)
    for tpl in neutral_adj:
        for a in GROUPS_ADJ:
            add(tpl.format(a=a), **clean)
    for tpl in hateful_plural:
        for g in GROUPS_PLURAL:
            add(
                tpl.format(g=g, d=rng.choice(DEHUMANISING)),
                TOXICITY=1.0,
                IDENTITY_ATTACK=1.0,
                THREAT=0.0,
                SEVERE_TOXICITY=1.0,
            )
    for tpl in hateful_adj:
        for a in GROUPS_ADJ:
            add(
                tpl.format(a=a, d=rng.choice(DEHUMANISING)),
                TOXICITY=1.0,
                IDENTITY_ATTACK=1.0,
                THREAT=0.0,
                SEVERE_TOXICITY=1.0,
            )
    for tpl in violent_group:
        for g in GROUPS_PLURAL:
            add(
                tpl.format(g=g, k=rng.choice(KILL_PAST), v=rng.choice(KILL_VERBS)),
                TOXICITY=1.0,
                IDENTITY_ATTACK=1.0,
                THREAT=1.0,
                SEVERE_TOXICITY=1.0,
            )

    threats = (
        "somebody should {v} {t}",
        "someone needs to {v} {t}",
        "I hope someone will {v} {t}",
        "it would be a charity if somebody would {v} {t}",
        "{t} deserves to be {k}",
        "{t} should be {k}",
        "I will {v} you",
        "I'm going to {v} you and your family",
        "we should {v} {t}",
        "{t} needs a bullet in the head",
        "if I see {t} I will {v} him",
        "time to {v} {t}",
        "someone do the world a favour and {v} {t}",
        "{t} will be {k} soon, watch your back",
    )
    not_threats = (
        "{t} should resign",
        "{t} should be impeached",
        "{t} should apologise",
        "{t} should be voted out",
        "{t} should face trial",
        "{t} deserves to lose the election",
        "someone needs to stop {t} at the ballot box",
        "I hope someone will challenge {t} in the primary",
        "we should vote against {t}",
        "{t} was criticised for the decision",
        "{t} needs to explain the budget",
    )
    for tpl, t in itertools.product(threats, TARGETS):
        add(
            tpl.format(t=t, v=rng.choice(KILL_VERBS), k=rng.choice(KILL_PAST)),
            TOXICITY=1.0,
            THREAT=1.0,
            SEVERE_TOXICITY=1.0,
            IDENTITY_ATTACK=0.0,
        )
    for tpl, t in itertools.product(not_threats, TARGETS):
        add(tpl.format(t=t), **clean)
    reports = (
        "the airstrike killed {n} militants near {p}",
        "{n} civilians were killed in the bombing of {p}",
        "the attack in {p} killed {n} people",
        "soldiers were shot by snipers outside {p}",
        "the army says it killed {n} fighters in {p}",
        "police shot the suspect in {p} last night",
        "the court sentenced the killer to life in prison",
        "{n} people died when the bomb exploded in {p}",
        "the militants executed {n} hostages in {p}, the ministry said",
        "troops destroyed the terrorist base near {p}",
        "the drone strike in {p} left {n} dead",
        "rebels were beaten back from {p}",
    )
    places = (
        "aleppo",
        "idlib",
        "mosul",
        "raqqa",
        "deir ez zor",
        "kabul",
        "palmyra",
        "homs",
        "donetsk",
        "gaza",
    )
    for tpl, p in itertools.product(reports, places):
        add(tpl.format(n=rng.choice(("two", "12", "dozens of", "40", "hundreds of")), p=p), **clean)
    insults = (
        "you are a {i}",
        "you {i}",
        "what a {i} you are",
        "{t} is a {i}",
        "only a {i} would write this",
        "shut up you {i}",
        "you're such a {i}",
        "go away you {i}",
        "the author is a complete {i}",
    )
    civil = (
        "you are right about {t}",
        "you make a fair point about {t}",
        "I disagree with you about {t}",
        "{t} is a politician",
        "I think you are mistaken",
        "thank you for the thoughtful comment",
        "you should read the whole article before judging {t}",
        "I respectfully disagree with {t}",
        "the author makes a good case",
        "what a great article",
    )
    for tpl, t in itertools.product(insults, TARGETS):
        add(
            tpl.format(t=t, i=rng.choice(INSULTS)),
            TOXICITY=1.0,
            INSULT=1.0,
            THREAT=0.0,
            IDENTITY_ATTACK=0.0,
        )
    for tpl, t in itertools.product(civil, TARGETS):
        add(tpl.format(t=t), **clean, SPAM=0.0)
    return rows


def template_frame() -> pd.DataFrame:
    """The templated sentences as a corpus frame (``id``, ``text``, ``corpus``, attributes)."""
    rows = _rows()
    seen: set[str] = set()
    records: list[dict[str, object]] = []
    for text, labels in rows:
        if text in seen:
            continue
        seen.add(text)
        record: dict[str, object] = {"id": f"t{len(records)}", "text": text, "corpus": CORPUS}
        for name in NAMES:
            record[name] = labels.get(name, np.nan)
        records.append(record)
    return pd.DataFrame.from_records(records)
