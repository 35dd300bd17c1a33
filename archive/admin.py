from django.contrib import admin
from django.contrib.admin import widgets
from django.db import models
from django.db.models import Count
from django.utils.html import format_html

from archive.models import Document, Person, PersonAlias, Publication


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
    search_fields = ["name", "aliases__name"]
    list_filter = [HasAliasesFilter, HasDocumentsFilter]
    inlines = [PersonAliasInline]

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
