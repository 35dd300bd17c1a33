"""Documents stored before the import read HTML character references ("Jos&#233;") keep their text;
their fingerprint now ignores how a character is written, so importing the same file again is
recognised as the same document instead of a new one. Their copy signatures record the
fingerprint they were computed from: it is renamed with them, so the signatures stay current
(no whole-archive ``cluster_copies`` on the next start)."""

from django.db import migrations

from archive.models import content_hash

CHUNK = 500


def fingerprint_again(apps, schema_editor):
    Document = apps.get_model("archive", "Document")
    CopySignature = apps.get_model("archive", "CopySignature")
    # Read first, write after: SQLite is not written to while a cursor reads the same table.
    renamed: dict[int, tuple[str, str]] = {}
    with_ampersand = Document.objects.filter(body__contains="&").values_list(
        "pk", "body", "content_hash"
    )
    for pk, body, stored in with_ampersand.iterator(chunk_size=2000):
        digest = content_hash(body)
        if digest != stored:
            renamed[pk] = (stored, digest)
    pks = list(renamed)
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start : start + CHUNK]
        documents = list(Document.objects.filter(pk__in=chunk).only("pk"))
        for document in documents:
            document.content_hash = renamed[document.pk][1]
        Document.objects.bulk_update(documents, ["content_hash"])
        signatures = list(CopySignature.objects.filter(document_id__in=chunk))
        for signature in signatures:
            old, new = renamed[signature.document_id]
            digest, _, rest = signature.text_hash.partition(":")
            if digest == old:
                signature.text_hash = f"{new}:{rest}"
        CopySignature.objects.bulk_update(signatures, ["text_hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0011_word_case"),
    ]

    operations = [
        migrations.RunPython(fingerprint_again, migrations.RunPython.noop),
    ]
