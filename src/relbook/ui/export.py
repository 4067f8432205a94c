"""Export the selected rows of a list as CSV, with the columns the list shows.

Runs on a background thread. Cells are written through defusedcsv, so a value such as
``=HYPERLINK(...)`` cannot turn into a formula when the file is opened in a spreadsheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relbook.ui.fmt import cell

_WINDOW = 2000


def export_rows(lists: Any, kind: str, columns: list[Any], ids: list[str], path: Path) -> int:
    from defusedcsv import csv

    wanted = set(ids)
    written = 0
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.label for c in columns])
        offset = 0
        while wanted:
            rows = lists.window(kind, "", None, offset, _WINDOW, columns)
            if not rows:
                break
            for row in rows:
                if row.id in wanted:
                    wanted.discard(row.id)
                    writer.writerow(
                        [
                            cell(value, c.value_type)
                            for value, c in zip(row.values, columns, strict=True)
                        ]
                    )
                    written += 1
            offset += _WINDOW
    tmp.replace(path)
    return written
