"""The archive's data: publications, persons (with aliases) and documents.

The database is the source of truth; the Whoosh index under ``archive/search/`` is derived from it
and kept in step by ``archive/indexing.py``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Container
from urllib.parse import urlencode

from django.core.validators import URLValidator
from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify


def without_nul(value: str) -> str:
    """Text without NUL characters, which PostgreSQL cannot store (a stray one in an imported
    file must not make a save fail on one database and pass on the other)."""
    return value.replace("\x00", "")


def normalise_name(value: str) -> str:
    """Collapse runs of whitespace so one person or publication has one spelling."""
    return " ".join(without_nul(value).split())


def content_hash(text: str) -> str:
    """A fingerprint of a text that ignores case, Unicode form and whitespace, so the same article
    saved twice (a re-import, a copy with different line breaks) is recognised as a duplicate."""
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


class PersonManager(NamedManager):
    def canonical_names(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Each name as the facet shows it: an alias ("Babur") becomes its person's name."""
        known = set(self.filter(name__in=names).values_list("name", flat=True))
        aliases = dict(
            PersonAlias.objects.filter(name__in=[n for n in names if n not in known]).values_list(
                "name", "person__name"
            )
        )
        return tuple(dict.fromkeys(aliases.get(name, name) for name in names))


PERSON_SLUG_MAX = 200


def _slug_base(name: str) -> str:
    return slugify(name)[:PERSON_SLUG_MAX].strip("-") or "person"


def person_slug(name: str, taken: Container[str]) -> str:
    """A slug for a person page from the name: "asif-ali-zardari", then "-2", "-3" when names
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


class Person(models.Model):
    name = models.CharField(
        max_length=200, unique=True, help_text="The fullest form of the name, as shown in facets."
    )
    # Null until set (unique ignores NULLs): bulk inserts that skip save() and signals still work;
    # the person page's by-name link fills a missing slug.
    slug = models.SlugField(
        max_length=PERSON_SLUG_MAX + 10,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="The person page's address, made from the name when the person is first saved "
        "and kept when the name changes.",
    )

    objects = PersonManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name = normalise_name(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        if not self.slug:  # inserted in bulk: the by-name address gives it a slug
            return reverse("archive:person-by-name") + "?" + urlencode({"name": self.name})
        return reverse("archive:person", kwargs={"slug": self.slug})

    def natural_key(self) -> tuple[str]:
        return (self.name,)


@receiver(pre_save, sender=Person, dispatch_uid="archive.models.person_slug")
def _person_slug(sender, instance: Person, **kwargs) -> None:
    # A signal rather than save(): fixtures are saved "raw", which skips save() but not signals.
    # A fixture row carries no slug, so an existing person keeps the one it has.
    if instance.slug:
        return
    if instance.pk is not None:
        instance.slug = (
            Person.objects.filter(pk=instance.pk).values_list("slug", flat=True).first() or None
        )
    if not instance.slug:
        instance.slug = unique_person_slug(Person, normalise_name(instance.name), instance.pk)


class PersonAlias(models.Model):
    """Another spelling or a short form of a person's name ("Babur" for "Farhatullah Babar")."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200, unique=True)

    objects = NamedManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "person aliases"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name = normalise_name(self.name)
        super().save(*args, **kwargs)

    def natural_key(self) -> tuple[str]:
        return (self.name,)

    natural_key.dependencies = ["archive.person"]


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
    source_url = models.URLField(
        "source URL", max_length=1000, blank=True, validators=[URLValidator(["http", "https"])]
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
        self.title, self.body = without_nul(self.title), without_nul(self.body)
        if self.external_id == "":
            self.external_id = None
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("archive:document", kwargs={"pk": self.pk, "slug": self.slug})

    def natural_key(self) -> tuple[str | None]:
        return (self.external_id,)

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
    instance.content_hash = content_hash(instance.body)


def merge_persons(keep: Person, others: list[Person]) -> int:
    """Fold ``others`` into ``keep``: their names and aliases become aliases of ``keep``, their
    documents mention ``keep`` instead, and they are deleted. Returns the documents re-linked.

    The signal handlers in ``archive.indexing`` reindex every affected document on commit.
    """
    from django.db import transaction

    relinked: set[int] = set()
    with transaction.atomic():
        for other in others:
            if other.pk == keep.pk:
                continue
            for alias in list(other.aliases.all()):
                if alias.name.casefold() == keep.name.casefold():
                    alias.delete()
                else:
                    alias.person = keep
                    alias.save()
            document_ids = list(other.documents.values_list("pk", flat=True))
            keep.documents.add(*document_ids)
            relinked.update(document_ids)
            name = other.name
            other.delete()
            if (
                name.casefold() != keep.name.casefold()
                and not PersonAlias.objects.filter(name=name).exists()
            ):
                PersonAlias.objects.create(person=keep, name=name)
    return len(relinked)


class IndexTask(models.Model):
    """A document whose index entry must be rewritten: the outbox between database and index.

    Written in the same transaction as the change (by the signal handlers in
    ``archive.indexing``), so a change that committed always leaves a task behind, whatever happens
    to the process afterwards. The index writer reads tasks in id order, writes the documents'
    committed state, and deletes exactly the tasks it applied; tasks left by a crash or by a busy
    index are applied by the next writer (``manage.py apply_index_tasks``, the next save, the web
    process's first request).
    """

    document_id = models.BigIntegerField(db_index=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"reindex document {self.document_id}"
