"""Titles and texts saved before the archive cleaned them: a text file's control characters
(a terminal's ESC colour codes, backspaces) and an admin edit's "\\r\\n" line breaks. Each
document changed gets its fingerprint again and an outbox task, so the index follows."""

from django.db import migrations


def clean(apps, schema_editor):
    from archive.models import content_hash
    from archive.storedtext import stored_text

    Document = apps.get_model("archive", "Document")
    IndexTask = apps.get_model("archive", "IndexTask")
    changed = []  # read everything first: no writes while the cursor is open
    for pk, title, body in Document.objects.values_list("pk", "title", "body").iterator(
        chunk_size=500
    ):
        clean_title, clean_body = stored_text(title), stored_text(body)
        if (clean_title, clean_body) != (title, body):
            changed.append((pk, clean_title, clean_body))
    for pk, title, body in changed:
        Document.objects.filter(pk=pk).update(
            title=title, body=body, content_hash=content_hash(body)
        )
    IndexTask.objects.bulk_create(
        [IndexTask(document_id=pk) for pk, _, _ in changed], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0015_former_name_merge_undo"),
    ]

    operations = [
        migrations.RunPython(clean, migrations.RunPython.noop),
    ]
