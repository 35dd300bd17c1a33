"""The MySQL-protocol client the cluster backend talks to searchd with.

Two DB-API clients speak SphinxQL here, and the backend uses them the same way (multi-statement
batches, ``nextset()``, rows as tuples of ``int`` and ``str``):

- ``mysqlclient`` (``MySQLdb``, C), when it is installed (``make cluster-client``). It reads
  result rows about eight times faster: one story-count batch of 1,857 rows took 0.77 ms of CPU
  against 6.0 ms, and a common word's search on the cluster reads some 7,000 rows, so on two
  cores the client's CPU is taken from searchd (``docs/sphinxql-notes.md``, "Rows, not passes").
  It has no wheel for Linux: it builds against Debian's ``libmariadb-dev`` with a compiler.
- ``pymysql`` (pure Python), always installed, used otherwise.

``ARCHIVE_SPHINX_CLIENT=pymysql`` (an environment variable: the cluster's command line reads
it too) keeps pymysql even where the C client is installed.
"""

from __future__ import annotations

import math
import os
from functools import cache
from typing import Any

# Client error codes (the same numbers in both clients) for a connection that failed or was
# lost, rather than a statement searchd refused: 2002/2003 cannot connect (Connector/C says
# 2002 for a refused TCP port, pymysql 2003), 2006 gone away, 2013 lost during a query, 2055
# lost at a system call.
CONNECTION_ERROR_CODES = frozenset({2002, 2003, 2006, 2013, 2055})


@cache
def _mysqldb():
    if os.environ.get("ARCHIVE_SPHINX_CLIENT", "").lower() == "pymysql":
        return None
    try:
        import MySQLdb
    except ImportError:
        return None
    return MySQLdb


def name() -> str:
    """Which client connections use: "mysqlclient" or "pymysql"."""
    return "mysqlclient" if _mysqldb() is not None else "pymysql"


def connect(host: str, port: int, timeout: float, **options: Any):
    """A connection to a searchd: autocommit on, multi-statement batches allowed, UTF-8, and
    ``timeout`` seconds to connect, to send and to wait for an answer (the C client counts
    whole seconds: a fraction is rounded up)."""
    mysqldb = _mysqldb()
    if mysqldb is not None:
        from MySQLdb.constants import CLIENT

        module, seconds, password = mysqldb, max(1, math.ceil(timeout)), {"passwd": ""}
    else:
        import pymysql
        from pymysql.constants import CLIENT

        module, seconds, password = pymysql, timeout, {}
    settings = {
        "host": host,
        "port": port,
        "user": "",
        **password,
        "autocommit": True,
        "charset": "utf8",
        "connect_timeout": seconds,
        "read_timeout": seconds,
        "write_timeout": seconds,
        "client_flag": CLIENT.MULTI_STATEMENTS,
    }
    settings.update(options)
    return module.connect(**settings)


def _classes(attribute: str) -> tuple[type[BaseException], ...]:
    import pymysql

    classes: list[type[BaseException]] = [getattr(pymysql.err, attribute)]
    mysqldb = _mysqldb()
    if mysqldb is not None:
        classes.append(getattr(mysqldb, attribute))
    return tuple(classes)


def operational_errors() -> tuple[type[BaseException], ...]:
    """The clients' OperationalError: the connection failed, was lost or timed out."""
    return _classes("OperationalError")


def programming_errors() -> tuple[type[BaseException], ...]:
    """The clients' ProgrammingError: searchd refused a statement."""
    return _classes("ProgrammingError")


def errors() -> tuple[type[BaseException], ...]:
    """Every error either client raises."""
    return _classes("Error")


def is_connection_error(exc: BaseException) -> bool:
    """Whether an OperationalError says the connection failed or was lost."""
    code = exc.args[0] if exc.args else 0
    return code in CONNECTION_ERROR_CODES or "Lost connection" in str(exc)


def timed_out(exc: BaseException, seconds_spent: float, timeout: float) -> bool:
    """Whether an OperationalError was a timeout: pymysql says "timed out"; the C client reports
    a read timeout as a lost connection (2013) after exactly the timeout, so the time tells."""
    return "timed out" in str(exc) or seconds_spent >= timeout
