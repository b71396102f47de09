"""The DuckDB store of a data dir: the event log (the source of truth) and its memory projection.

- log.py: `EventStore`, appends and write batches
- log_reads.py, projection_reads.py: the reads (events, a memory's history, memories, versions)
- codecs.py: the tables' columns, derived from the records, and the row conversions
- migrations.py: the numbered schema steps
- files.py: opening the file, snapshot copies for readers, backups
- erase.py: the store's part of a hard erase
"""
