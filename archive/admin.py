from collections.abc import Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Count, ExpressionWrapper, F, FloatField
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from archive import ingest, jobs, presentation, stories
from archive.ingest import resolution
from archive.models import (
    ENTITY_MODELS,
    Document,
    EntityDecision,
    FormerName,
    IngestJob,
    NamedEntity,
    Organisation,
    OrganisationAlias,
    Person,
    PersonAlias,
    Place,
    PlaceAlias,
    Publication,
    Story,
    merge_entities,
    unmerge,
)


class HasDocumentsFilter(admin.SimpleListFilter):
    title = "documents"
    parameter_name = "has_documents"

    def lookups(self, request, model_admin):
        return [("yes", "With documents"), ("no", "Without documents")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(documents__isnull=False).distinct()
        if self.value() == "no":
            return queryset.filter(documents__isnull=True)
        return queryset


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ["name", "document_count"]
    search_fields = ["name"]
    list_filter = [HasDocumentsFilter]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_documents=Count("documents"))

    @admin.display(description="documents", ordering="num_documents")
    def document_count(self, obj: Publication) -> int:
        return obj.num_documents


class HasAliasesFilter(admin.SimpleListFilter):
    title = "aliases"
    parameter_name = "has_aliases"

    def lookups(self, request, model_admin):
        return [("yes", "With aliases"), ("no", "Without aliases")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(aliases__isnull=False).distinct()
        if self.value() == "no":
            return queryset.filter(aliases__isnull=True)
        return queryset


# Below this confidence an unreviewed value is on the review list.
REVIEW_BELOW = 0.6
# Files listed per page of a job's "Every file" table (a zip of thousands was one long page).
JOB_FILES_PER_PAGE = 50


class ReviewFilter(admin.SimpleListFilter):
    """The review list: values the pipeline is least sure of, that no editor has checked yet."""

    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("todo", f"To review (confidence under {REVIEW_BELOW})"), ("done", "Reviewed")]

    def queryset(self, request, queryset):
        if self.value() == "todo":
            return queryset.filter(
                reviewed=False, confidence__lt=REVIEW_BELOW, documents__isnull=False
            ).distinct()
        if self.value() == "done":
            return queryset.filter(reviewed=True)
        return queryset


class EntityAdmin(admin.ModelAdmin):
    """Persons, organisations and places alike: the review list (most at stake first), merges,
    renames, splits and "not a person" decisions, all of which later resolution passes and
    re-imports keep (``archive/ingest/resolution.py``)."""

    change_list_template = "admin/archive/entity_change_list.html"
    list_display = ["name", "confidence", "reviewed", "alias_list", "document_count", "stake"]
    list_editable = ["reviewed"]
    readonly_fields = ["slug", "confidence"]
    search_fields = ["name", "aliases__name"]
    list_filter = [ReviewFilter, HasAliasesFilter, HasDocumentsFilter]
    ordering = ["confidence", "name"]  # for other admins' choices; the list: _LeastSureFirst
    actions = ["merge_selected", "confirm_selected", "not_this_kind"]

    def get_changelist(self, request, **kwargs):
        return _LeastSureFirst

    def get_changelist_form(self, request, **kwargs):
        """The list's "reviewed" boxes, each named for its value (a screen reader heard a
        hundred unnamed checkboxes), without a pointer to help text the list does not show."""
        base = super().get_changelist_form(request, **kwargs)

        class ReviewedForm(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                if "reviewed" in self.fields and self.instance.pk:
                    self.fields["reviewed"].help_text = ""
                    self.fields["reviewed"].widget.attrs["aria-label"] = (
                        f"{self.instance.name}: reviewed"
                    )

        return ReviewedForm

    def _one(self) -> str:
        """ "a person", "an organisation", "a place"."""
        noun = self.model._meta.verbose_name
        return ("an " if noun[:1] in "aeiou" else "a ") + noun

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "not_this_kind" in actions:  # the action's name, with its kind and article
            function, name, _ = actions["not_this_kind"]
            description = f"Not {self._one()}: remove everywhere, never again"
            actions["not_this_kind"] = (function, name, description)
        return actions

    @admin.action(description="Merge selected into one", permissions=["change"])
    def merge_selected(self, request, queryset):
        """Ask which name to keep, then merge (aliases carried over, documents re-linked)."""
        entities = list(queryset.order_by("name"))
        noun = self.model._meta.verbose_name_plural
        if len(entities) < 2:
            self.message_user(request, f"Select at least two {noun} to merge.", messages.WARNING)
            return None
        keep_id = request.POST.get("keep")
        if request.POST.get("confirm") == "yes" and keep_id:
            keep = next((e for e in entities if str(e.pk) == keep_id), None)
            if keep is not None:
                others = [e for e in entities if e.pk != keep.pk]
                relinked = merge_entities(keep, others)
                undo = (
                    reverse("admin:archive_formername_changelist")
                    + "?"
                    + urlencode({"successor": keep.name, "kind": keep.kind})
                )
                self.message_user(
                    request,
                    format_html(
                        "Merged {} into {}; {} document{} re-linked. "
                        '<a href="{}">Undo</a>: select the names there and choose “Split off '
                        "again”.",
                        ", ".join(e.name for e in others),
                        keep.name,
                        relinked,
                        "" if relinked == 1 else "s",
                        undo,
                    ),
                    messages.SUCCESS,
                )
                return None
        # Suggest the fullest name: the one with most words, then the most documents.
        suggested = max(entities, key=lambda e: (len(e.name.split()), e.num_documents, e.name))
        return TemplateResponse(
            request,
            "admin/archive/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Merge {noun}",
                "entities": entities,
                "suggested": suggested,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action": "merge_selected",
                "submit": "Merge",
            },
        )

    @admin.action(
        description="Confirm selected (reviewed: keep as they are)", permissions=["change"]
    )
    def confirm_selected(self, request, queryset):
        count = queryset.update(reviewed=True, confidence=1.0)
        self.message_user(request, f"{count} marked as reviewed.", messages.SUCCESS)

    @admin.action(
        description="Not one of these: remove everywhere, never again", permissions=["change"]
    )
    def not_this_kind(self, request, queryset):
        """Ask first (it removes values from documents, as a delete does), then record the
        decision for each name and alias, unlink the documents (the index follows), and delete
        the values; re-imports and resolution passes respect it."""
        kind = self.model.kind
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/archive/not_this_kind.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Not {self._one()}?",
                    "entities": list(queryset.order_by("name")),
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "action": "not_this_kind",
                    "submit": f"Yes, not {self._one()}",
                },
            )
        removed = []
        with transaction.atomic():
            for entity in queryset.prefetch_related("aliases"):
                for name in [entity.name, *(a.name for a in entity.aliases.all())]:
                    EntityDecision.objects.get_or_create(
                        kind=kind, name=name, decision=EntityDecision.NOT, other=""
                    )
                removed.append(entity.name)
                entity.delete()
        self.message_user(
            request,
            f"{', '.join(removed)}: not {self._one()}, removed from every document.",
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        """A rename keeps the old name as an alias (so re-imports find it) and marks the value
        reviewed."""
        if change and "name" in form.changed_data:
            old = form.initial.get("name")
            alias_model = self.model.alias_model()
            super().save_model(request, obj, form, change)
            if old and old.casefold() != obj.name.casefold():
                alias_model.objects.get_or_create(name=old, defaults={alias_model.owner_field: obj})
            obj.reviewed = True
            obj.save(update_fields=["reviewed"])
            return
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        """Deleting an alias is a split: the name is never joined to this entity again, and the
        documents that mention it are resolved anew."""
        super().save_formset(request, form, formset, change)
        deleted = [alias.name for alias in getattr(formset, "deleted_objects", [])]
        if deleted:
            entity = form.instance
            ids = keep_apart(entity, deleted)
            _resolve_on_commit(ids)
            self.message_user(
                request,
                f"Split off {_quoted(deleted)}: the {len(ids):,} documents that mention it are "
                "resolved again and never join it to this value." + _still_joined(entity, deleted),
            )

    def get_queryset(self, request):
        documents = Count("documents", distinct=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                num_documents=documents,
                # How many of its document links may be wrong: what a review of it can mend.
                at_stake=ExpressionWrapper(
                    (1.0 - F("confidence")) * documents, output_field=FloatField()
                ),
            )
            .prefetch_related("aliases")
        )

    @admin.display(description="at stake", ordering="-at_stake")
    def stake(self, obj) -> str:
        """(1 - confidence) x documents: the document links that may be wrong."""
        return f"{obj.at_stake:.1f}"

    @admin.display(description="aliases")
    def alias_list(self, obj) -> str:
        return ", ".join(alias.name for alias in obj.aliases.all())

    @admin.display(description="documents", ordering="num_documents")
    def document_count(self, obj) -> str:
        """The count, linked to those documents in the admin, to read the value in context."""
        relation = self.model._meta.get_field("documents").remote_field.name
        url = reverse("admin:archive_document_changelist") + f"?{relation}__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.num_documents)


class PersonAliasInline(admin.TabularInline):
    model = PersonAlias
    extra = 1


class OrganisationAliasInline(admin.TabularInline):
    model = OrganisationAlias
    extra = 1


class PlaceAliasInline(admin.TabularInline):
    model = PlaceAlias
    extra = 1


@admin.register(Person)
class PersonAdmin(EntityAdmin):
    inlines = [PersonAliasInline]


@admin.register(Organisation)
class OrganisationAdmin(EntityAdmin):
    inlines = [OrganisationAliasInline]


@admin.register(Place)
class PlaceAdmin(EntityAdmin):
    inlines = [PlaceAliasInline]


def keep_apart(entity: NamedEntity, names: list[str]) -> set[int]:
    """Keep ``names`` apart from ``entity`` for good (an editor's decision each) and return the
    documents that mention them, for the caller to resolve again once it commits."""
    for name in names:
        EntityDecision.objects.get_or_create(
            kind=entity.kind, name=name, decision=EntityDecision.APART, other=entity.name
        )
    return resolution.documents_mentioning(names, any_spelling=True)


def _resolve_on_commit(ids: set[int]) -> None:
    """One resolution pass for a whole admin action, after it commits."""
    if ids:
        transaction.on_commit(lambda: resolution.resolve_archive(document_ids=ids))


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"“{n}”" for n in names)


def _still_joined(entity: NamedEntity, split: list[str]) -> str:
    """Which aliases stay joined after a split (a merge brings every alias of the value merged,
    "Tory" and "Tories", and each is split off on its own). Read afresh: a change list's
    prefetched aliases may still hold the deleted ones."""
    alias_model = entity.alias_model()
    others = list(
        alias_model.objects.filter(**{alias_model.owner_field: entity})
        .exclude(name__in=split)
        .values_list("name", flat=True)
    )
    if not others:
        return ""
    return (
        f" Still joined to “{entity.name}”: {_quoted(others)}; delete those aliases too to "
        "split them off."
    )


@admin.register(FormerName)
class FormerNameAdmin(admin.ModelAdmin):
    """Values that are no longer one and where their documents went (a resolution pass's joins
    and editors' merges): why an old address now leads to another page. A record, not a
    decision: to keep a name apart, split it off again here (the action) or add an editor's
    decision."""

    list_display = ["name", "kind", "successor", "now_with", "successor_kind", "how", "changed"]
    list_filter = ["kind", "successor_kind"]
    search_fields = ["name", "successor"]
    date_hierarchy = "changed"
    actions = ["split_off_again"]

    @admin.display(description="now with")
    def now_with(self, former: FormerName) -> str:
        """Where the documents are today: the value it went into may have been merged or
        renamed since ("Reagan" went into "Ronald Reagan", now merged into another value)."""
        model = ENTITY_MODELS[former.successor_kind]
        if model.objects.filter(name=former.successor).exists():
            return "the same"
        entity = FormerName.objects.successor(former.successor_kind, name=former.successor)
        return entity.name if entity is not None else "no value (its documents are gone)"

    @admin.action(
        description="Split off again: a value of its own (undo the merge or join)",
        permissions=["split"],
    )
    def split_off_again(self, request, queryset):
        """Undo a merge or a resolution pass's join in one step. An editor's merge is undone
        whole (``models.unmerge``): the value comes back with the documents and aliases it
        had, the value it went into leaves the documents only the merge gave it. A pass's join
        loses its alias. Either way a standing decision keeps the names apart, and the
        documents that mention them are resolved again, in one pass after the action."""
        said, skipped, ids = [], [], set()
        with transaction.atomic():
            for former in queryset.order_by("name"):
                entity = FormerName.objects.successor(former.kind, name=former.name)
                if entity is None or entity.kind != former.kind:
                    skipped.append(former.name)
                    continue
                model = entity._meta.model_name
                if not all(
                    request.user.has_perm(f"archive.{perm}_{model}") for perm in ("add", "change")
                ):
                    raise PermissionDenied
                names = [former.name]
                if former.by_merge:
                    back = unmerge(former, entity)
                    names += back.aliases
                    ids |= keep_apart(entity, names) | set(back.document_ids)
                    said.append(
                        f"“{former.name}” is a value of its own again, in its {back.documents:,} "
                        f"document{'' if back.documents == 1 else 's'}"
                        + (f", with {_quoted(back.aliases)}" if back.aliases else "")
                        + f", and is never joined to “{entity.name}” again."
                        if back.value is not None
                        else f"“{former.name}” had no documents left: nothing came back, and it "
                        f"is never joined to “{entity.name}” again."
                    )
                    continue
                aliases = entity.alias_model()
                aliases.objects.filter(**{aliases.owner_field: entity}, name=former.name).delete()
                found = keep_apart(entity, names)
                ids |= found
                said.append(
                    f"Split off “{former.name}” from “{entity.name}”: the {len(found):,} "
                    "documents that mention it are resolved again and never join it to that "
                    "value." + _still_joined(entity, names)
                )
            _resolve_on_commit(ids)
        for message in said:
            self.message_user(request, message, messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{_quoted(skipped)}: no value of the same kind has its documents now (a pass "
                "may have made the name another kind's value); nothing to split here. An entity "
                "decision keeps a name apart from any value.",
                messages.WARNING,
            )

    @admin.display(description="how")
    def how(self, obj) -> str:
        return "merged by an editor: undone whole" if obj.by_merge else "joined by a pass"

    def has_split_permission(self, request) -> bool:
        """Splitting changes entities: it takes the right to change them."""
        return any(
            request.user.has_perm(f"archive.change_{model._meta.model_name}")
            for model in (Person, Organisation, Place)
        )

    def has_add_permission(self, request) -> bool:
        return False  # written by resolution passes and merges

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EntityDecision)
class EntityDecisionAdmin(admin.ModelAdmin):
    """Editors' standing decisions ("Blair is never joined to Tony Blair"); saving or deleting
    one resolves the documents that mention the name again."""

    list_display = ["name", "decision", "other", "kind", "created"]
    list_filter = ["kind", "decision"]
    search_fields = ["name", "other"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        ids = resolution.documents_mentioning([obj.name], any_spelling=True)
        transaction.on_commit(lambda: resolution.resolve_archive(document_ids=ids))

    def delete_model(self, request, obj):
        ids = resolution.documents_mentioning([obj.name], any_spelling=True)
        super().delete_model(request, obj)
        transaction.on_commit(lambda: resolution.resolve_archive(document_ids=ids))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files at once. An empty file passes the form: the import reports it as that
    file's failure ("The file is empty.") while the rest comes in, as ``manage.py ingest``
    does, instead of refusing the whole upload without saying which file."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        items = list(data) if isinstance(data, list | tuple) else [data] if data else []
        if not items and self.required:  # the form has no browser validation (novalidate)
            raise forms.ValidationError("Choose at least one file to upload.", code="required")
        return [single(item, initial) for item in items]


class UploadForm(forms.Form):
    files = MultipleFileField(
        help_text="One or many files: .txt, .html/.htm, .pdf (scans too), .png/.jpg/.tif page "
        "images (read by OCR), .json, .jsonl, or a .zip of them.",
    )
    publication = forms.CharField(
        required=False,
        max_length=200,
        help_text="For documents whose file does not name a publication. Leave empty for "
        "“Unknown publication”.",
    )
    extract_persons = forms.BooleanField(
        required=False,
        initial=True,
        label="Find the people, organisations and places mentioned automatically",
    )


class StoryDocumentInline(admin.TabularInline):
    model = Document
    fields = ["title", "publication", "published", "story_pinned"]
    readonly_fields = ["title", "publication", "published", "story_pinned"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class _LeastSureFirst(ChangeList):
    """The entity lists: most at stake first, the document links that may be wrong ((1 -
    confidence) x documents: "Newcastle" as an organisation in 48 documents at 0.5 before a
    one-document value at 0.02), then least sure, unless a column header asks otherwise. (Not
    the admin's ``ordering``: other admins order their choices of an entity by it, without the
    count.)"""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return ["-at_stake", "confidence", "-num_documents", "name", "-pk"]


class _MostCopiesFirst(ChangeList):
    """The stories list, most copies first unless a column header asks otherwise. (Not the
    admin's ``ordering``: other admins order their choices of a story by it, without the
    count.)"""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return ["-num_copies", "-pk"]

    def get_ordering_field_columns(self):
        # The copies column's header shows the order in force (sorted, descending), so that
        # one click on it gives the fewest copies first, as the admin does for its own orderings.
        if ORDER_VAR in self.params:
            return super().get_ordering_field_columns()
        return {self.list_display.index("copy_count"): "desc"}


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    """Stories with several copies first; editors join two stories here, and split one from
    the documents list ("Split selected documents into a new story")."""

    list_display = ["__str__", "first_title", "copy_count", "created"]
    inlines = [StoryDocumentInline]
    actions = ["join_selected"]
    search_fields = ["documents__title"]

    def get_queryset(self, request):
        # Stories with the most copies first (the changelist's column headers can re-sort).
        return super().get_queryset(request).annotate(num_copies=Count("documents"))

    def get_changelist(self, request, **kwargs):
        return _MostCopiesFirst

    @admin.display(description="copies", ordering="num_copies")
    def copy_count(self, obj: Story) -> int:
        return obj.num_copies

    @admin.display(description="earliest printing")
    def first_title(self, obj: Story) -> str:
        first = stories.copies_of(obj.documents.first()) if obj.num_copies else []
        return first[0].title if first else "—"

    @admin.action(description="Join selected stories into one", permissions=["change"])
    def join_selected(self, request, queryset):
        chosen = list(queryset)
        if len(chosen) < 2:
            self.message_user(request, "Choose at least two stories to join.", messages.WARNING)
            return
        kept = stories.join(chosen)
        self.message_user(
            request,
            f"Joined {len(chosen)} stories into {kept}; its documents stay together through "
            "re-imports and re-clustering.",
            messages.SUCCESS,
        )


class OcrConfidenceFilter(admin.SimpleListFilter):
    """Scans to check: documents read by OCR, under a mean word confidence (DocumentAdmin lists
    them least confident first)."""

    title = "OCR confidence"
    parameter_name = "ocr"

    def lookups(self, request, model_admin):
        return [("80", "Below 80"), ("90", "Below 90"), ("all", "All OCRed")]

    def queryset(self, request, queryset):
        if self.value() in ("80", "90"):
            return queryset.filter(ocr_confidence__lt=float(self.value()))
        if self.value() == "all":
            return queryset.filter(ocr_confidence__isnull=False)
        return queryset


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "publication_name",
        "published",
        "date_inferred",
        "ocr_confidence",
        "updated",
    ]
    actions = ["split_story"]
    list_filter = [
        "date_inferred",
        OcrConfidenceFilter,
        ("publication", admin.RelatedOnlyFieldListFilter),
        "published",
    ]
    search_fields = ["title", "external_id", "persons__name", "publication__name"]
    date_hierarchy = "published"
    autocomplete_fields = ["publication", "persons", "organisations", "places"]
    raw_id_fields = ["story"]
    readonly_fields = [
        "created",
        "updated",
        "view_on_site_link",
        "original_file_link",
        "ocr_confidence",
    ]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_select_related = ["publication"]
    fieldsets = [
        (None, {"fields": ["title", "body"]}),
        (
            "Metadata",
            {
                "fields": [
                    "published",
                    "date_inferred",
                    "publication",
                    "persons",
                    "organisations",
                    "places",
                ]
            },
        ),
        ("Source", {"fields": ["source_url", "external_id"]}),
        ("Story", {"fields": ["story", "story_pinned"]}),
        ("Record", {"fields": ["created", "updated", "view_on_site_link"]}),
    ]
    # Shown for a scan (a document with an original file or an OCR confidence) only.
    scan_fieldset = ("Scan", {"fields": ["original_file_link", "ocr_confidence"]})

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and (obj.original_file or obj.ocr_confidence is not None):
            fieldsets.insert(1, self.scan_fieldset)
        return fieldsets

    def get_ordering(self, request):
        """Filtered by OCR confidence (and not sorted by a column), the least confident first:
        the list to check."""
        if request.GET.get(OcrConfidenceFilter.parameter_name) and "o" not in request.GET:
            return ["ocr_confidence", "pk"]
        return super().get_ordering(request)

    @admin.action(description="Split selected documents into a new story", permissions=["change"])
    def split_story(self, request, queryset):
        chosen = list(queryset)
        story = stories.split_off(chosen)
        self.message_user(
            request,
            f"Moved {len(chosen)} document{'s' if len(chosen) != 1 else ''} into {story}; "
            "re-imports and re-clustering keep the split.",
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        """An editor who moves a document to another story pins it there. An editor who
        corrects an OCRed text has checked it: its OCR confidence is cleared, so it leaves the
        list of scans to check (its original file stays, and its page says it was checked)."""
        if "story" in form.changed_data:
            obj.story_pinned = True
        if change and "body" in form.changed_data and obj.ocr_confidence is not None:
            obj.ocr_confidence = None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """An editor who sets a document's persons, organisations or places takes them over:
        resolution passes leave that document's entities alone from then on."""
        super().save_related(request, form, formsets, change)
        if {"persons", "organisations", "places"} & set(form.changed_data):
            Document.objects.filter(pk=form.instance.pk).update(entities_extracted=False)

    def get_urls(self):
        upload = path(
            "upload/",
            self.admin_site.admin_view(self.upload_view),
            name="archive_document_upload",
        )
        return [upload, *super().get_urls()]

    def upload_view(self, request):
        """Upload documents: the files are stored and queued as a background job, and the
        answer is the job's page at once (archive/jobs.py); a worker imports them."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = jobs.queue_uploads(
                form.cleaned_data["files"],
                publication=form.cleaned_data["publication"],
                extract_persons=form.cleaned_data["extract_persons"],
                user=request.user,
            )
            return redirect("admin:archive_ingestjob_change", job.pk)
        return render(
            request,
            "admin/archive/document/upload.html",
            {
                **self.admin_site.each_context(request),
                "title": "Upload documents",
                "form": form,
                "opts": self.model._meta,
                "max_mb": ingest.sources.max_file_bytes() / 1e6,
                "recent_jobs": IngestJob.objects.select_related("created_by")[:10],
            },
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # Room to read and correct a headline and an article.
        if db_field.name == "title":
            kwargs["widget"] = widgets.AdminTextInputWidget(attrs={"size": 100})
        elif db_field.name == "body":
            kwargs["widget"] = widgets.AdminTextareaWidget(attrs={"rows": 24})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="publication", ordering="publication__name")
    def publication_name(self, obj: Document) -> str:
        return obj.publication.name if obj.publication_id else "Unknown publication"

    @admin.display(description="on the site")
    def view_on_site_link(self, obj: Document) -> str:
        if not obj.pk:
            return "-"
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.get_absolute_url())

    @admin.display(description="original file")
    def original_file_link(self, obj: Document) -> str:
        original = presentation.original_scan(obj) if obj.pk else None
        if original is None:
            return "missing" if obj.original_file else "-"
        return format_html(
            '<a href="{}">{} ({}, {})</a>',
            original.url,
            original.filename,
            original.kind,
            original.size,
        )


@admin.register(IngestJob)
class IngestJobAdmin(admin.ModelAdmin):
    """Uploads as background jobs: the list is the record of every upload (who, when, what);
    a job's page shows its live progress (htmx polls the progress partial) and each file's
    result, and lets an editor cancel it or retry its failed files."""

    list_display = (
        "__str__",
        "created",
        "created_by",
        "status",
        "files_done",
        "files_total",
        "created_count",
        "updated_count",
        "duplicate_count",
        "failed_count",
    )
    list_filter = ("status",)
    list_select_related = ("created_by",)
    date_hierarchy = "created"

    def has_add_permission(self, request) -> bool:
        return False  # a job comes from an upload

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:job_id>/progress/",
                view(self.progress_view),
                name="archive_ingestjob_progress",
            ),
            path("<int:job_id>/cancel/", view(self.cancel_view), name="archive_ingestjob_cancel"),
            path("<int:job_id>/retry/", view(self.retry_view), name="archive_ingestjob_retry"),
            *super().get_urls(),
        ]

    def _job(self, request, job_id, change: bool = False) -> IngestJob:
        allowed = self.has_change_permission if change else self.has_view_permission
        if not allowed(request):
            raise PermissionDenied
        return get_object_or_404(IngestJob.objects.select_related("created_by"), pk=job_id)

    def _context(self, request, job: IngestJob) -> dict:
        if job.status == IngestJob.Status.RUNNING and job.pk in jobs.requeue_stalled():
            job.refresh_from_db()  # a page left open notices a worker that died, and says so
        files = job.files.all()
        return {
            "job": job,
            "time_left": jobs.time_left(job),
            "failed_files": files.filter(failed_count__gt=0)[:500],
            "retryable": len(jobs.retryable(job)) if not job.active else 0,
            "files": (
                Paginator(files, JOB_FILES_PER_PAGE).get_page(request.GET.get("page"))
                if not job.active
                else None
            ),
            "can_change": self.has_change_permission(request),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self._job(request, object_id)
        return TemplateResponse(
            request,
            "admin/archive/ingestjob/job.html",
            {
                **self.admin_site.each_context(request),
                **self._context(request, job),
                "title": f"Upload {job.pk}",  # the status lives in the polled section
                "opts": self.model._meta,
            },
        )

    def progress_view(self, request, job_id):
        job = self._job(request, job_id)
        # "oob": the last poll (the job ended) also replaces the buttons and the status line.
        return TemplateResponse(
            request,
            "admin/archive/ingestjob/job.html#progress",
            {**self._context(request, job), "oob": True},
        )

    def cancel_view(self, request, job_id):
        if request.method != "POST":
            return redirect("admin:archive_ingestjob_change", job_id)
        job = self._job(request, job_id, change=True)
        jobs.cancel(job)
        self.message_user(request, "Cancelling: the files already imported stay imported.")
        return redirect("admin:archive_ingestjob_change", job_id)

    def retry_view(self, request, job_id):
        if request.method != "POST":
            return redirect("admin:archive_ingestjob_change", job_id)
        job = self._job(request, job_id, change=True)
        count = jobs.retry_failed(job)
        self.message_user(
            request, f"{count:,} files queued again." if count else "Nothing to retry."
        )
        return redirect("admin:archive_ingestjob_change", job_id)

    def delete_model(self, request, obj):
        jobs.delete_files(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for job in queryset:
            jobs.delete_files(job)
        super().delete_queryset(request, queryset)
