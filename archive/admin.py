from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from archive import ingest
from archive.models import Document, Person, PersonAlias, Publication, merge_persons


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


class PersonAliasInline(admin.TabularInline):
    model = PersonAlias
    extra = 1


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


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "alias_list", "document_count"]
    readonly_fields = ["slug"]  # the person page's address: set once, from the name
    search_fields = ["name", "aliases__name"]
    list_filter = [HasAliasesFilter, HasDocumentsFilter]
    inlines = [PersonAliasInline]
    actions = ["merge_selected"]

    @admin.action(description="Merge selected persons into one", permissions=["change"])
    def merge_selected(self, request, queryset):
        """Ask which name to keep, then merge (aliases carried over, documents re-linked)."""
        persons = list(queryset.order_by("name"))
        if len(persons) < 2:
            self.message_user(request, "Select at least two persons to merge.", messages.WARNING)
            return None
        keep_id = request.POST.get("keep")
        if request.POST.get("confirm") == "yes" and keep_id:
            keep = next((p for p in persons if str(p.pk) == keep_id), None)
            if keep is not None:
                others = [p for p in persons if p.pk != keep.pk]
                relinked = merge_persons(keep, others)
                self.message_user(
                    request,
                    f"Merged {', '.join(p.name for p in others)} into {keep.name}; "
                    f"{relinked} documents re-linked.",
                    messages.SUCCESS,
                )
                return None
        # Suggest the fullest name: the one with most words, then the most documents.
        suggested = max(persons, key=lambda p: (len(p.name.split()), p.num_documents, p.name))
        return TemplateResponse(
            request,
            "admin/archive/person/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge persons",
                "persons": persons,
                "suggested": suggested,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(num_documents=Count("documents", distinct=True))
            .prefetch_related("aliases")
        )

    @admin.display(description="aliases")
    def alias_list(self, obj: Person) -> str:
        return ", ".join(alias.name for alias in obj.aliases.all())

    @admin.display(description="documents", ordering="num_documents")
    def document_count(self, obj: Person) -> int:
        return obj.num_documents


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        help_text="One or many files: .txt, .html/.htm, .pdf, .json, .jsonl, or a .zip of them.",
    )
    publication = forms.CharField(
        required=False,
        max_length=200,
        help_text="For documents whose file does not name a publication. Leave empty for "
        "“Unknown publication”.",
    )
    extract_persons = forms.BooleanField(
        required=False, initial=True, label="Find the persons mentioned automatically"
    )


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "publication_name", "published", "date_inferred", "updated"]
    list_filter = ["date_inferred", ("publication", admin.RelatedOnlyFieldListFilter), "published"]
    search_fields = ["title", "external_id", "persons__name", "publication__name"]
    date_hierarchy = "published"
    autocomplete_fields = ["publication", "persons"]
    readonly_fields = ["created", "updated", "view_on_site_link"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_select_related = ["publication"]
    fieldsets = [
        (None, {"fields": ["title", "body"]}),
        ("Metadata", {"fields": ["published", "date_inferred", "publication", "persons"]}),
        ("Source", {"fields": ["source_url", "external_id"]}),
        ("Record", {"fields": ["created", "updated", "view_on_site_link"]}),
    ]

    def get_urls(self):
        upload = path(
            "upload/",
            self.admin_site.admin_view(self.upload_view),
            name="archive_document_upload",
        )
        return [upload, *super().get_urls()]

    def upload_view(self, request):
        """Upload documents: the same pipeline as `manage.py ingest`, with a per-file result."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                sources = [
                    source
                    for upload in form.cleaned_data["files"]
                    for source in ingest.from_stream(upload.name, upload.file, size=upload.size)
                ]
                report = ingest.ingest(
                    sources,
                    publication=form.cleaned_data["publication"] or None,
                    extract_persons=form.cleaned_data["extract_persons"],
                )
                form = UploadForm()
        else:
            form = UploadForm()
        rows = []
        for item in report.items if report else []:
            change_url = (
                reverse("admin:archive_document_change", args=[item.document_id])
                if item.document_id
                else None
            )
            rows.append({"item": item, "change_url": change_url})
        return render(
            request,
            "admin/archive/document/upload.html",
            {
                **self.admin_site.each_context(request),
                "title": "Upload documents",
                "form": form,
                "report": report,
                "rows": rows,
                "opts": self.model._meta,
                "max_mb": ingest.sources.max_file_bytes() / 1e6,
            },
            status=200,
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
