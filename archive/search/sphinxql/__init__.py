"""The SphinxQL search backend: a cluster of Sphinx 2.2.11 (or Manticore) ``searchd`` processes
spoken to over the MySQL protocol. ``cluster.py`` writes, starts and stops a local cluster;
``docs/sphinxql-notes.md`` records what the engine verifiably can and cannot do."""
