"""Regenerate grader/catalog.json from the registry and the stubs in problems/.

Run it after changing a stub or a problem's checks, and commit the two together:
    python3 scripts/stub_catalog.py
tests/test_dev_check.py fails while the catalog and the registry (or the committed stubs) differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import catalog, registry  # noqa: E402


def main() -> None:
    stubs = {spec.filename: (ROOT / "problems" / spec.filename).read_bytes() for spec in registry.PROBLEMS}
    document = catalog.build(registry.PROBLEMS, stubs)
    catalog.CATALOG_PATH.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {catalog.CATALOG_PATH} ({len(document['problems'])} problems)")


if __name__ == "__main__":
    main()
