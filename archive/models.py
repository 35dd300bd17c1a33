"""The archive's data: publications, persons (with aliases) and documents.

The database is the source of truth; the Whoosh index under ``archive/search/`` is derived from it
and kept in step by ``archive/indexing.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Container, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from archive.chunks import chunked
from archive.storedtext import stored_text


def without_nul(value: str) -> str:
    """Text without NUL characters, which PostgreSQL cannot store (a stray one in an imported
    file must not make a save fail on one database and pass on the other)."""
    return value.replace("\x00", "")


def after_tomorrow(day: dt.date) -> bool:
    """A publication date later than tomorrow (a day's slack for time zones): a typo ("2099" for
    "1999") or a wrong field, not a date a news archive can hold."""
    return day > timezone.localdate() + dt.timedelta(days=1)


def normalise_name(value: str) -> str:
    """Collapse runs of whitespace so one person or publication has one spelling."""
    return " ".join(without_nul(value).split())


def content_hash(text: str) -> str:
    """A fingerprint of a text that ignores case, Unicode form, whitespace and how a character is
    written (the character, or the HTML reference a scrape left: "&#233;"), so the same article
    saved twice (a re-import, a copy with different line breaks, a file stored before the import
    read its references) is recognised as a duplicate."""
    from archive.ingest.text import decode_references  # archive.ingest imports these models

    for _ in range(3):  # "&amp;#233;" stored once decoded ("&#233;") is "é" too
        decoded = decode_references(text)
        if decoded == text:
            break
        text = decoded
    normalised = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def title_slug(title: str) -> str:
    """The readable part of a document URL; the id alone identifies the document."""
    return slugify(title)[:80].strip("-") or "document"


class NamedManager(models.Manager):
    def get_by_natural_key(self, name: str):
        return self.get(name=name)


class Publication(models.Model):
    name = models.CharField(max_length=200, unique=True)

    objects = NamedManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name = normalise_name(self.name)
        super().save(*args, **kwargs)

    def natural_key(self) -> tuple[str]:
        return (self.name,)


class EntityManager(NamedManager):
    def _aliases_among(self, names: set[str]) -> dict[str, str]:
        alias_model = self.model.alias_model()
        return dict(
            alias_model.objects.filter(name__in=names).values_list(
                "name", f"{alias_model.owner_field}__name"
            )
        )

    def alias_targets(self, names: Iterable[str]) -> dict[str, str]:
        """The names that are aliases (and no entity's own name), each -> its entity's name;
        and the former values of this kind whose documents a value of this kind has now."""
        names = set(names)
        unknown = names - set(self.filter(name__in=names).values_list("name", flat=True))
        targets = self._aliases_among(unknown)
        kind = self.model.kind
        for name in unknown - set(targets):
            entity = FormerName.objects.successor(kind, name=name)
            if entity is not None and entity.kind == kind:
                targets[name] = entity.name
        for name in unknown - set(targets):
            # Typed in another case ("tony blair" in a hand-made URL): the value or the alias
            # written so in any case, as the search box finds it.
            if found := self._in_any_case(name):
                targets[name] = found
        return targets

    def _in_any_case(self, name: str) -> str:
        """The entity's name written ``name`` in another case, by its own name or an alias
        ("" when none); of two such values, the first made."""
        alias_model = self.model.alias_model()
        owner_name = f"{alias_model.owner_field}__name"
        found = self.filter(name__iexact=name).order_by("pk").values_list("name", flat=True).first()
        found = found or (
            alias_model.objects.filter(name__iexact=name)
            .order_by("pk")
            .values_list(owner_name, flat=True)
            .first()
        )
        if found or name.isascii():
            return found or ""
        # SQLite's LIKE (and PostgreSQL's upper() under the C collation) folds ASCII letters
        # only ("émile zola" is not "Émile Zola"): compare casefolded names here, read once,
        # only for such a name that matched nothing.
        folded = name.casefold()
        for rows in (
            self.order_by("pk").values_list("name", "name"),
            alias_model.objects.order_by("pk").values_list("name", owner_name),
        ):
            for candidate, value in rows.iterator(chunk_size=2000):
                if candidate.casefold() == folded:
                    return value
        return ""

    def canonical_names(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Each name as the facet shows it: an alias ("Babur") becomes its entity's name, and
        a former value ("Conservative Party", :class:`FormerName`) the value of its kind that
        has its documents now."""
        aliases = self.alias_targets(names)
        return tuple(dict.fromkeys(aliases.get(name, name) for name in names))


PERSON_SLUG_MAX = 200


def _slug_base(name: str) -> str:
    return slugify(name)[:PERSON_SLUG_MAX].strip("-") or "person"


def person_slug(name: str, taken: Container[str]) -> str:
    """A slug for an entity page from the name: "asif-ali-zardari", then "-2", "-3" when names
    differ only in what slugify drops ("O'Brien", "OBrien")."""
    base = _slug_base(name)
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def unique_person_slug(model, name: str, pk: int | None = None) -> str:
    """:func:`person_slug` against the slugs in the database (``model`` may be a migration's)."""
    taken = set(
        model.objects.filter(slug__startswith=_slug_base(name))
        .exclude(pk=pk)
        .values_list("slug", flat=True)
    )
    return person_slug(name, taken)


def give_slugs(model, pks: Iterable[int]) -> int:
    """Page addresses for entities inserted in bulk (an import's new names: ``bulk_create``
    skips ``save()`` and its signal), so that ``/persons/<slug>/`` works for every entity from
    the moment it exists, not only after its by-name page was first visited. Only these
    entities, and only those still without a slug: a slug once given never changes (another
    writer may have given it meanwhile). Returns how many got one here; a chunk that keeps
    colliding with other writers is left to the by-name route."""
    wanted = sorted(set(pks))
    given = 0
    for start in range(0, len(wanted), 500):
        for _attempt in range(3):
            try:
                given += _give_slugs_to(model, wanted[start : start + 500])
                break
            except (IntegrityError, OperationalError):  # a slug taken meanwhile: read again
                continue
    return given


# Numbered addresses ("o-brien-2" ... "-20") read by the slug column's index when a name's base
# address is taken; past that, a LIKE that reads the whole table (as many names that slugify
# alike are rare).
NUMBERED_SLUGS_READ = 20


def numbered_slugs(base: str) -> list[str]:
    """The addresses that names slugifying to ``base`` get, read by the slug index: ``base``,
    then "-2" ... up to :data:`NUMBERED_SLUGS_READ` (see :func:`person_slug`)."""
    return [base] + [f"{base}-{n}" for n in range(2, NUMBERED_SLUGS_READ + 1)]


def _taken_slugs(model, bases: set[str]) -> set[str]:
    """The slugs taken among these bases and their numbered forms."""
    taken = set(model.objects.filter(slug__in=bases).values_list("slug", flat=True))
    crowded = sorted(bases & taken)  # "o-brien" taken: its numbered forms too
    numbered = [slug for base in crowded for slug in numbered_slugs(base)[1:]]
    for start in range(0, len(numbered), 900):
        chunk = numbered[start : start + 900]
        taken.update(model.objects.filter(slug__in=chunk).values_list("slug", flat=True))
    for base in crowded:
        if f"{base}-{NUMBERED_SLUGS_READ}" in taken:
            taken.update(
                model.objects.filter(slug__startswith=base + "-").values_list("slug", flat=True)
            )
    return taken


def _give_slugs_to(model, pks: list[int]) -> int:
    """Slugs for a chunk of entities, in one statement: an ORM update per entity was an eighth
    of an import's own time (thousands of new names a batch)."""
    with transaction.atomic():
        rows = list(
            model.objects.filter(pk__in=pks, slug__isnull=True)
            .order_by("pk")
            .values_list("pk", "name")
        )
        chunk = [(pk, normalise_name(name)) for pk, name in rows]
        taken = _taken_slugs(model, {_slug_base(name) for _, name in chunk})
        slugs = {}
        for pk, name in chunk:
            slugs[pk] = person_slug(name, taken)
            taken.add(slugs[pk])
        if not slugs:
            return 0
        quote = connection.ops.quote_name
        table, slug, key = (
            quote(model._meta.db_table),
            quote(model._meta.get_field("slug").column),
            quote(model._meta.pk.column),
        )
        with connection.cursor() as cursor:
            # Only if still without one: never renames an address another writer just gave.
            cursor.executemany(
                f"UPDATE {table} SET {slug} = %s WHERE {key} = %s AND {slug} IS NULL",
                [(value, pk) for pk, value in slugs.items()],
            )
        now = model.objects.filter(pk__in=list(slugs)).values_list("pk", "slug")
        return sum(1 for pk, value in now if slugs[pk] == value)


def slugless_with_slug(model, slug: str) -> list[int]:
    """The entities without a slug whose name would get this one (an archive that imports left
    without addresses): what a visit to a missing ``/persons/<slug>/`` gives a slug to."""
    bases = {slug, re.sub(r"-\d+$", "", slug)}  # "g-20" as it is; "sean-obrien-2" numbered
    return [
        pk
        for pk, name in model.objects.filter(slug__isnull=True).values_list("pk", "name")
        if _slug_base(normalise_name(name)) in bases
    ]


class EntityKind(models.TextChoices):
    PERSON = "person", "person"
    ORGANISATION = "organisation", "organisation"
    PLACE = "place", "place"


class NamedEntity(models.Model):
    """What the person, organisation and place facets show: one value per real entity.

    ``confidence`` says how sure the extraction pipeline is that the value is a real entity of
    its kind and the only value for it (``archive/ingest/resolution.py``); the admin's review list
    shows the most at stake first ((1 - confidence) x documents). ``reviewed`` is an editor's
    word: a resolution pass never changes a reviewed entity.
    """

    kind: str = ""

    name = models.CharField(
        max_length=200, unique=True, help_text="The fullest form of the name, as shown in facets."
    )
    # Null until set (unique ignores NULLs): bulk inserts that skip save() and signals still work;
    # the by-name link fills a missing slug.
    slug = models.SlugField(
        max_length=PERSON_SLUG_MAX + 10,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="The page's address, made from the name when the entity is first saved and "
        "kept when the name changes.",
    )
    confidence = models.FloatField(
        default=1.0,
        db_index=True,
        editable=False,
        help_text="How sure the pipeline is (0-1) that this is a real entity of its kind and "
        "the one value for it; 1 for names given by a source or an editor.",
    )
    reviewed = models.BooleanField(
        default=False,
        help_text="Checked by an editor: later resolution passes and re-imports keep it as it is.",
    )

    objects = EntityManager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name = normalise_name(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        if not self.slug:  # inserted in bulk: the by-name address gives it a slug
            return reverse(f"archive:{self.kind}-by-name") + "?" + urlencode({"name": self.name})
        return reverse(f"archive:{self.kind}", kwargs={"slug": self.slug})

    def natural_key(self) -> tuple[str]:
        return (self.name,)

    @classmethod
    def alias_model(cls):
        return cls._meta.get_field("aliases").related_model


class Person(NamedEntity):
    kind = "person"


class Organisation(NamedEntity):
    kind = "organisation"


class Place(NamedEntity):
    kind = "place"


ENTITY_MODELS: dict[str, type[NamedEntity]] = {
    "person": Person,
    "organisation": Organisation,
    "place": Place,
}


def alias_targets(field: str, names: Iterable[str]) -> dict[str, str]:
    """For a value field of the index (a facet: ``person``, ``organisation``, ``place``,
    ``publication``), the names that are aliases of an entity of that kind, each -> the entity's
    name (a merge or a rename leaves the old name as an alias). What the query language's
    ``person:"…"`` resolves names with (registered in ``archive/apps.py``), as the filters do
    (``archive.params.canonical_filters``)."""
    model = ENTITY_MODELS.get(field)
    return model.objects.alias_targets(names) if model is not None else {}


def _entity_slug(sender, instance: NamedEntity, **kwargs) -> None:
    # A signal rather than save(): fixtures are saved "raw", which skips save() but not signals.
    # A fixture row carries no slug, so an existing entity keeps the one it has.
    if instance.slug:
        return
    if instance.pk is not None:
        instance.slug = (
            sender.objects.filter(pk=instance.pk).values_list("slug", flat=True).first() or None
        )
    if not instance.slug:
        instance.slug = unique_person_slug(sender, normalise_name(instance.name), instance.pk)


for _model in ENTITY_MODELS.values():
    pre_save.connect(_entity_slug, sender=_model, dispatch_uid=f"archive.models.slug.{_model.kind}")


class EntityAlias(models.Model):
    """Another spelling or a short form of an entity's name ("Babur" for "Farhatullah Babar")."""

    owner_field = ""  # the foreign key to the entity

    name = models.CharField(max_length=200, unique=True)

    objects = NamedManager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name = normalise_name(self.name)
        super().save(*args, **kwargs)

    def natural_key(self) -> tuple[str]:
        return (self.name,)

    @property
    def owner(self) -> NamedEntity:
        return getattr(self, self.owner_field)


class PersonAlias(EntityAlias):
    owner_field = "person"
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases")

    class Meta(EntityAlias.Meta):
        verbose_name_plural = "person aliases"

    def natural_key(self) -> tuple[str]:
        return (self.name,)

    natural_key.dependencies = ["archive.person"]


class OrganisationAlias(EntityAlias):
    owner_field = "organisation"
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="aliases")

    class Meta(EntityAlias.Meta):
        verbose_name_plural = "organisation aliases"

    def natural_key(self) -> tuple[str]:
        return (self.name,)

    natural_key.dependencies = ["archive.organisation"]


class PlaceAlias(EntityAlias):
    owner_field = "place"
    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="aliases")

    class Meta(EntityAlias.Meta):
        verbose_name_plural = "place aliases"

    def natural_key(self) -> tuple[str]:
        return (self.name,)

    natural_key.dependencies = ["archive.place"]


class FormerNameManager(models.Manager):
    #: How many moves a lookup follows ("C Hodgson" -> "Charlie Hodgson" -> a later rename).
    MAX_MOVES = 5

    def successor(
        self, kind: str, *, name: str | None = None, slug: str | None = None
    ) -> NamedEntity | None:
        """The entity that now has the documents of the value once called ``name`` (or once at
        ``slug``), following later moves; None when nothing has them."""
        if not (name or slug):
            return None
        row = self.filter(kind=kind, **({"slug": slug} if name is None else {"name": name}))
        former = row.order_by("-changed").first()
        for _ in range(self.MAX_MOVES):
            if former is None:
                return None
            model = ENTITY_MODELS[former.successor_kind]
            # The successor as named, or a value that has its name as an alias (merged since).
            entity = (
                model.objects.filter(name=former.successor).first()
                or model.objects.filter(aliases__name=former.successor).first()
            )
            if entity is not None:
                return entity
            former = self.filter(kind=former.successor_kind, name=former.successor).first()
        return None


class FormerName(models.Model):
    """A value that is no longer one, and the value its documents went to: "Conservative Party"
    -> "Conservatives" (a resolution pass found they are one party), "C Hodgson" -> "Charlie
    Hodgson" (a later import named him in full), or an editor's merge.

    Not a decision: resolution never reads it, so a later pass may split the name out again (its
    own entity then answers first). It keeps addresses working: the entity page's old slug, the
    by-name link, a facet filter or ``person:"…"`` in a saved search or a citation."""

    kind = models.CharField(max_length=16, choices=EntityKind.choices)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=PERSON_SLUG_MAX + 10, blank=True, default="")
    successor_kind = models.CharField(max_length=16, choices=EntityKind.choices)
    successor = models.CharField(max_length=200)
    changed = models.DateTimeField(default=timezone.now, editable=False)
    # An editor's merge only (None: a resolution pass's join, or a merge made before these were
    # kept): what undoing it gives back. The documents the value had, those the merge newly
    # linked to the successor, and the aliases it took along.
    merged_documents = models.JSONField(null=True, blank=True, default=None, editable=False)
    linked_by_merge = models.JSONField(default=list, blank=True, editable=False)
    merged_aliases = models.JSONField(default=list, blank=True, editable=False)

    objects = FormerNameManager()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="unique_former_name")]
        indexes = [models.Index(fields=["kind", "slug"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}) is now {self.successor} ({self.successor_kind})"

    @property
    def by_merge(self) -> bool:
        """Whether an editor's merge made it, with what an undo needs."""
        return self.merged_documents is not None

    @classmethod
    def record(
        cls, entity: NamedEntity, successor_kind: str, successor: str, **merge: list
    ) -> None:
        """Note that ``entity``, about to be deleted, now lives on as ``successor``; an
        editor's merge also gives what an undo needs (``merged_documents``,
        ``linked_by_merge``, ``merged_aliases``)."""
        if (successor_kind, successor) == (entity.kind, entity.name):
            return
        cls.objects.update_or_create(
            kind=entity.kind,
            name=entity.name,
            defaults={
                "slug": entity.slug or "",
                "successor_kind": successor_kind,
                "successor": successor,
                "changed": timezone.now(),
                "merged_documents": merge.get("merged_documents"),
                "linked_by_merge": merge.get("linked_by_merge", []),
                "merged_aliases": merge.get("merged_aliases", []),
            },
        )


class EntityDecision(models.Model):
    """An editor's decision about a name that resolution must respect for ever.

    - ``not``: the name is never a value of ``kind`` ("Wright Stuff" is not a person);
    - ``apart``: the name is never joined to ``other`` ("Blair" is not always "Tony Blair").

    Merges and renames need no row: they leave aliases, which resolution follows.
    """

    NOT = "not"
    APART = "apart"
    DECISIONS = [(NOT, "is not this kind"), (APART, "is never joined to")]

    kind = models.CharField(max_length=16, choices=EntityKind.choices)
    name = models.CharField(max_length=200)
    decision = models.CharField(max_length=8, choices=DECISIONS)
    other = models.CharField(max_length=200, blank=True, default="")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "name", "decision", "other"], name="unique_entity_decision"
            )
        ]

    def __str__(self) -> str:
        if self.decision == self.APART:
            return f"{self.name} is never joined to {self.other}"
        return f"{self.name} is not a {self.kind}"


class Story(models.Model):
    """One article and its copies: the same text re-sent, syndicated, re-headlined, cut, updated.

    Documents join a story when their text is a near copy of a member's
    (``archive/ingest/copies.py``); search results show one document per story. An editor's
    split or join pins the documents it moves (``Document.story_pinned``): no later import or
    re-clustering moves a pinned document.
    """

    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "stories"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Story {self.pk}"


class DocumentManager(models.Manager):
    def get_by_natural_key(self, external_id: str | None):
        if not external_id:
            # Documents without an external ID have no natural key; fixtures give them a pk.
            raise self.model.DoesNotExist
        return self.get(external_id=external_id)


def is_web_url(url: str) -> bool:
    """Only http(s) addresses become links: a ``javascript:`` URL can arrive through a fixture or a
    database edit, which skip form validation."""
    return url.strip().lower().startswith(("http://", "https://"))


class Document(models.Model):
    title = models.CharField(max_length=500)
    body = models.TextField(help_text="The article text, without page chrome.")
    published = models.DateField(null=True, blank=True, db_index=True)
    date_inferred = models.BooleanField(
        default=False,
        help_text="Set when the date was inferred from the text rather than stated by the source.",
    )
    publication = models.ForeignKey(
        Publication,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )
    persons = models.ManyToManyField(Person, blank=True, related_name="documents")
    organisations = models.ManyToManyField(Organisation, blank=True, related_name="documents")
    places = models.ManyToManyField(Place, blank=True, related_name="documents")
    entities_extracted = models.BooleanField(
        default=False,
        editable=False,
        help_text="Set when the document's persons, organisations and places were extracted "
        "from its text (its mentions are stored), so a resolution pass may recompute them; "
        "clear for entities given by the source or set by an editor.",
    )
    story = models.ForeignKey(
        Story,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
        help_text="The story this document is a copy of (set by copy detection, or by an editor).",
    )
    story_pinned = models.BooleanField(
        default=False,
        help_text="Placed in its story by an editor: copy detection never moves it.",
    )
    source_url = models.URLField(
        "source URL",
        max_length=1000,
        blank=True,
        validators=[URLValidator(["http", "https"])],
        db_index=True,  # re-imports are recognised by it (ingest.store.find_existing)
    )
    content_hash = models.CharField(
        max_length=64,
        editable=False,
        db_index=True,
        default="",
        help_text="Fingerprint of the normalised body; recognises the same text imported twice.",
    )
    external_id = models.CharField(
        "external ID",
        max_length=200,
        unique=True,
        null=True,
        blank=True,
        help_text="A stable identifier from the source system; recognises re-imports.",
    )
    original_file = models.FileField(
        upload_to="originals/%Y/%m/",
        blank=True,
        max_length=300,
        help_text="The file the text was read from by OCR (a scan), kept as it was uploaded.",
    )
    ocr_confidence = models.FloatField(
        "OCR confidence",
        null=True,
        blank=True,
        editable=False,
        help_text="Mean word confidence (0-100) of the OCR that produced the text; empty when "
        "the text was not OCRed. Low values are listed for checking in the admin.",
    )
    # Defaults rather than auto_now*, so fixtures (saved raw) get them too.
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now, editable=False)

    objects = DocumentManager()

    class Meta:
        ordering = ["-published", "-id"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.updated = timezone.now()
        if self.external_id == "":
            self.external_id = None
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("archive:document", kwargs={"pk": self.pk, "slug": self.slug})

    def natural_key(self) -> tuple[str | None]:
        return (self.external_id,)

    def clean(self) -> None:
        """An editor's date after tomorrow is a typo ("2099" for "1999"): refused with the reason
        (an import leaves such a date out and says so: ``dates.undated_if_ahead``)."""
        super().clean()
        if self.published and after_tomorrow(self.published):
            raise ValidationError(
                {"published": f"{self.published.isoformat()} is in the future: check the year."}
            )

    @property
    def source_link(self) -> str:
        """The source URL when it is safe to link to, else ""."""
        return self.source_url if is_web_url(self.source_url) else ""

    @property
    def slug(self) -> str:
        return title_slug(self.title)


@receiver(pre_save, sender=Document, dispatch_uid="archive.models.fingerprint")
def _fingerprint(sender, instance: Document, **kwargs) -> None:
    # A signal rather than save(): fixtures are saved "raw", which skips save() but not signals.
    instance.title, instance.body = stored_text(instance.title), stored_text(instance.body)
    instance.content_hash = content_hash(instance.body)


def merge_entities(keep: NamedEntity, others: list[NamedEntity]) -> int:
    """Fold ``others`` into ``keep`` (all of one kind): their names and aliases become aliases of
    ``keep``, their documents mention ``keep`` instead, and they are deleted. ``keep`` is marked
    reviewed, so a resolution pass keeps the merge. Returns the documents re-linked.

    The signal handlers in ``archive.indexing`` reindex every affected document on commit.
    """
    from django.db import transaction

    alias_model = keep.alias_model()
    relinked: set[int] = set()
    with transaction.atomic():
        # What ``keep`` had before this merge: a document two merged values share is one the
        # merge linked for each of them (an undo of one leaves it to the other).
        had = set(keep.documents.values_list("pk", flat=True))
        for other in others:
            if other.pk == keep.pk:
                continue
            moved = []
            for alias in list(other.aliases.all()):
                if alias.name.casefold() == keep.name.casefold():
                    alias.delete()
                else:
                    setattr(alias, alias.owner_field, keep)
                    alias.save()
                    moved.append(alias.name)
            document_ids = list(other.documents.values_list("pk", flat=True))
            keep.documents.add(*document_ids)
            relinked.update(document_ids)
            name = other.name
            FormerName.record(  # its page's address leads here; an undo gives it back
                other,
                keep.kind,
                keep.name,
                merged_documents=sorted(document_ids),
                linked_by_merge=sorted(set(document_ids) - had),
                merged_aliases=moved,
            )
            other.delete()
            if (
                name.casefold() != keep.name.casefold()
                and not alias_model.objects.filter(name=name).exists()
            ):
                alias_model.objects.create(**{alias_model.owner_field: keep, "name": name})
            # The editor joins them now: earlier decisions to keep them apart (an undone merge
            # left one for the name and each alias it gave back) no longer stand.
            EntityDecision.objects.filter(
                kind=keep.kind,
                decision=EntityDecision.APART,
                name__in=[name, *moved],
                other=keep.name,
            ).delete()
        keep.reviewed = True
        keep.confidence = 1.0
        keep.save(update_fields=["reviewed", "confidence"])
    return len(relinked)


@dataclass
class Unmerged:
    """What undoing a merge gave back: the value (None when none of its documents is left),
    its documents, and the aliases it took back."""

    value: NamedEntity | None
    documents: int
    aliases: list[str]
    # The documents given back: a pass resolves those whose names it sets again (a document the
    # value had only through a merge undone before may mention it under another value's name).
    document_ids: tuple[int, ...] = ()


def unmerge(former: FormerName, successor: NamedEntity) -> Unmerged:
    """Undo an editor's merge of ``former`` into ``successor`` (the value its documents are
    with now, after any later merges): the value comes back with the documents it had that are
    still in the archive and the aliases it took along, and ``successor`` leaves the documents
    only the merge gave it.

    Only documents whose values no resolution pass sets are unlinked here (loaded from a
    fixture, given their persons, or edited by hand); the others are resolved again by the
    caller. A document is left with ``successor`` when the merges on the way there did not
    link it (``successor`` had it), or another merge into it still claims it. A later merge of
    the value the name went into forgets the documents this undo takes back."""
    from django.db import transaction

    kind = former.kind
    with transaction.atomic():
        # The merges from the name to ``successor``: each says which documents it linked.
        unlink = set(former.linked_by_merge)
        chain = [successor.name]
        step = former.successor
        for _ in range(FormerName.objects.MAX_MOVES):
            if step == successor.name:
                break
            chain.append(step)
            link = FormerName.objects.filter(kind=kind, name=step).first()
            if link is None:
                break
            if link.by_merge:
                unlink &= set(link.linked_by_merge)
                taken = set(former.merged_documents)
                link.merged_documents = [d for d in link.merged_documents if d not in taken]
                link.linked_by_merge = [d for d in link.linked_by_merge if d not in taken]
                link.save(update_fields=["merged_documents", "linked_by_merge"])
            else:
                unlink = set()  # a pass's join: who linked what is not known
            step = link.successor
        claimed = {
            pk
            for other in FormerName.objects.filter(kind=kind, successor__in=chain)
            .exclude(pk=former.pk)
            .exclude(merged_documents=None)
            for pk in other.merged_documents
        }
        documents = [
            pk
            for chunk in chunked(sorted(former.merged_documents), 500)
            for pk in Document.objects.filter(pk__in=chunk).values_list("pk", flat=True)
        ]
        model = type(successor)
        aliases = successor.alias_model()
        moved = list(
            aliases.objects.filter(
                **{aliases.owner_field: successor}, name__in=former.merged_aliases
            ).values_list("name", flat=True)
        )
        # The name goes from ``successor``'s aliases, with or without a value to go back to.
        aliases.objects.filter(**{aliases.owner_field: successor}, name=former.name).delete()
        value = None
        if documents:
            value, _ = model.objects.get_or_create(name=former.name)
            value.reviewed = True  # an editor's decision, like the merge it undoes
            value.save(update_fields=["reviewed"])
            for chunk in chunked(sorted(documents), 500):
                value.documents.add(*chunk)
            aliases.objects.filter(**{aliases.owner_field: successor}, name__in=moved).update(
                **{aliases.owner_field: value}
            )
        else:  # nothing to give them back to; they stay apart from ``successor`` all the same
            aliases.objects.filter(**{aliases.owner_field: successor}, name__in=moved).delete()
        for chunk in chunked(sorted(unlink - claimed), 500):
            successor.documents.remove(
                *Document.objects.filter(pk__in=chunk, entities_extracted=False)
            )
        former.delete()  # the name is a value again (or nothing): its own page answers
    return Unmerged(value, len(documents), moved, tuple(documents))


def merge_persons(keep: Person, others: list[Person]) -> int:
    return merge_entities(keep, others)


class Mention(models.Model):
    """One name as the extractor saw it in one document: the evidence that archive-level
    resolution weighs (``archive/ingest/resolution.py``). ``label`` is the model's label
    (PERSON, ORG, GPE, LOC, PRODUCT, WORK_OF_ART, ...); ``count`` how often in the document."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="mentions")
    name = models.CharField(max_length=200, db_index=True)
    label = models.CharField(max_length=16)
    count = models.PositiveIntegerField(default=1)
    # The name came with a title ("Mr Blair", "President Bush"): a person even when single.
    titled = models.BooleanField(default=False)
    # The text writes the name where a place stands at least once ("in Lahore"); None: not
    # looked at (a person's name, a common word or role, a line-up's club, or extracted before
    # this was recorded).
    located = models.BooleanField(null=True, default=None)

    class Meta:
        indexes = [models.Index(fields=["document", "label"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.label}) in document {self.document_id}"


class WordCase(models.Model):
    """How the archive writes one word: in how many documents in lowercase ("pop", "making")
    and in how many capitalised within a sentence ("Pop", "Making"). A capitalised word that the
    archive mostly writes in lowercase is a common word, not a name: "Pop Idol" is a show, and
    "Making Michael Howard" is Michael Howard (``archive/ingest/wordcase.py``). Counted for the
    documents whose names were extracted, as they are saved."""

    word = models.CharField(max_length=64, primary_key=True)  # casefolded
    lowercase = models.PositiveIntegerField(default=0)
    capitalised = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.word}: {self.lowercase} lowercase, {self.capitalised} capitalised"


class CopySignature(models.Model):
    """A document's MinHash signature over its word shingles, kept so that re-clustering and a
    rebuild never recompute it (``archive/ingest/copies.py``). ``text_hash`` is the
    ``content_hash`` and parameters it was computed for: a changed text gets a new one."""

    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, primary_key=True, related_name="copy_signature"
    )
    text_hash = models.CharField(max_length=120)
    shingles = models.PositiveIntegerField()
    hashvalues = models.BinaryField()

    def __str__(self) -> str:
        return f"signature of document {self.document_id}"


class CopyBand(models.Model):
    """One locality-sensitive-hashing band of a signature: documents that share a band key are
    candidate copies, so finding a document's copies never compares it with the whole archive.

    A document writes some 40 of these, so the table is kept to one B-tree keyed (key,
    document): no row id and no foreign key index (on SQLite a WITHOUT ROWID table, made by the
    migration). A document's bands are deleted by their keys, recomputed from its stored
    signature (``archive/ingest/copies.py``), never by scanning for its id.
    """

    pk = models.CompositePrimaryKey("key", "document_id")
    key = models.BigIntegerField()
    document_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"band {self.key} of document {self.document_id}"


class IndexTask(models.Model):
    """A document whose index entry must be rewritten: the outbox between database and index.

    Written in the same transaction as the change (by the signal handlers in
    ``archive.indexing``), so a change that committed always leaves a task behind, whatever happens
    to the process afterwards. The index writer reads tasks in id order, writes the documents'
    committed state, and deletes exactly the tasks it applied; tasks left by a crash or by a busy
    index are applied by the next writer (``manage.py apply_index_tasks``, the next save, the web
    process's first request, or a later one once they have waited ``indexing.STALE_SECONDS``).
    """

    document_id = models.BigIntegerField(db_index=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"reindex document {self.document_id}"


class IngestJob(models.Model):
    """One admin upload (or ``manage.py ingest --background``), imported by a worker.

    The record of that upload stays after it finishes: who, when, what, and each file's result.
    The uploaded files are kept under ``MEDIA_ROOT/jobs/<id>/`` until the job is done, so a
    worker that dies can resume it (:mod:`archive.jobs`).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    created = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    publication = models.CharField(max_length=200, blank=True)
    extract_persons = models.BooleanField(default=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True, editable=False)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # When the worker last reported progress: a running job whose worker died stops moving.
    heartbeat = models.DateTimeField(null=True, blank=True)
    uploads = models.JSONField(
        default=list, help_text="The uploaded files: [{name, path, size}], path under MEDIA_ROOT."
    )
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    # Files read so far (OCR, the slow part of a scan, happens while reading): it moves file
    # by file, while files_done and the counts move when a chunk of files is saved and recorded.
    files_read = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField("created", default=0)
    updated_count = models.PositiveIntegerField("updated", default=0)
    duplicate_count = models.PositiveIntegerField("duplicates", default=0)
    failed_count = models.PositiveIntegerField("failed", default=0)
    message = models.TextField(blank=True)
    # What the resolution pass at the job's end must look at again, gathered chunk by chunk
    # (recorded with each chunk's files, so a resumed job still knows): {"documents", "names"}.
    pending_resolution = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"Upload {self.pk} ({self.get_status_display()})"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class IngestJobFile(models.Model):
    """One file of a job (a zip counts each member): its outcome, kept as the upload's record."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    job = models.ForeignKey(IngestJob, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=1000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # When a worker first began this file: a document of the same text created since then is
    # this job's own (a worker killed after saving it, before recording it), not a duplicate.
    first_attempt = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    # [{source, outcome, message, document_id, title}] of the file's documents and records.
    results = models.JSONField(default=list)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="job_file_position"),
        ]

    def __str__(self) -> str:
        return self.name
