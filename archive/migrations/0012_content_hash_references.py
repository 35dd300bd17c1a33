"""Documents stored before the import read HTML character references ("Jos&#233;") keep their text;
their fingerprint now ignores how a character is written, so importing the same file again is
recognised as the same document instead of a new one."""

from django.db import migrations

from archive.models import content_hash


def fingerprint_again(apps, schema_editor):
    Document = apps.get_model("archive", "Document")
    changed = []
    with_ampersand = Document.objects.filter(body__contains="&").only("pk", "body", "content_hash")
    for document in with_ampersand.iterator(chunk_size=2000):
        digest = content_hash(document.body)
        if digest != document.content_hash:
            document.content_hash = digest
            changed.append(document)
        if len(changed) >= 500:
            Document.objects.bulk_update(changed, ["content_hash"])
            changed = []
    Document.objects.bulk_update(changed, ["content_hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0011_word_case"),
    ]

    operations = [
        migrations.RunPython(fingerprint_again, migrations.RunPython.noop),
    ]
