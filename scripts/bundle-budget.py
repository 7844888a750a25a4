#!/usr/bin/env python3
"""The bundle size budget: for each bundle in frontend/budget.toml, the brotli size of its
HTML page and of every local file the page names (scripts, Wasm, styles, icons) plus the
listed extras, against the bundle's ceiling. Prints every figure; exits 1 when any bundle
is over its ceiling or a file is missing (run `make frontend` first)."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = ROOT / "frontend" / "budget.toml"


def brotli_size(path: Path) -> int:
    out = subprocess.run(
        ["brotli", "-c", "-q", "11", str(path)], check=True, capture_output=True
    ).stdout
    return len(out)


def first_load(dir_: Path, public_url: str, extra: list[str]) -> list[Path]:
    """The page and the local files it names, in the order named."""
    page = dir_ / "index.html"
    files = [page]
    html = page.read_text(encoding="utf-8")
    # Fetched only when the page is added to an iPhone's home screen, not on a load.
    html = re.sub(r"<link[^>]*apple-touch-icon[^>]*>", "", html)
    for url in re.findall(r"""(?:href|src|module_or_path:)\s*=?\s*['"]([^'"#?]+)['"]""", html):
        if url.startswith(("http:", "https:", "data:", "//")) or "." not in url.rsplit("/", 1)[-1]:
            continue
        if url.startswith(public_url):
            rel = url[len(public_url):]
        elif public_url != "/" and url.startswith("/"):
            # A root file another bundle serves (the icons); measured from the portal's copy.
            rel, dir_for = url.lstrip("/"), ROOT / "dist" / "portal"
            candidate = dir_for / rel
            if candidate.exists() and candidate not in files:
                files.append(candidate)
            continue
        else:
            rel = url.lstrip("/")
        candidate = dir_ / rel
        if candidate.exists() and candidate not in files:
            files.append(candidate)
        elif not candidate.exists() and not url.endswith(".webmanifest"):
            # The manifest is made by the server; anything else must be built.
            raise FileNotFoundError(f"{page} names {url}, not found at {candidate}")
    files += [dir_ / e for e in extra if dir_ / e not in files]
    return files


def main() -> int:
    budget = tomllib.loads(BUDGET.read_text(encoding="utf-8"))
    failed = False
    for name, spec in budget.items():
        dir_ = ROOT / spec["dir"]
        try:
            files = first_load(dir_, spec.get("public_url", "/"), spec.get("extra", []))
        except FileNotFoundError as e:
            print(f"{name}: {e} (run `make frontend`)")
            failed = True
            continue
        total_raw = total_br = 0
        print(f"{name} — first load of {spec.get('public_url', '/')}")
        for f in files:
            if not f.exists():
                print(f"  missing {f} (run `make frontend`)")
                failed = True
                continue
            raw, br = f.stat().st_size, brotli_size(f)
            total_raw += raw
            total_br += br
            print(f"  {f.relative_to(ROOT)!s:60} {raw:>10,} B raw {br:>9,} B brotli")
        ceiling = spec["first_load"]
        verdict = "ok" if total_br <= ceiling else "OVER BUDGET"
        print(f"  {'total':60} {total_raw:>10,} B raw {total_br:>9,} B brotli"
              f"  (ceiling {ceiling:,}) {verdict}")
        failed |= total_br > ceiling
    if failed:
        print("Bundle budget exceeded or bundle missing: cut weight, or raise the ceiling in "
              "frontend/budget.toml with the reason in the commit.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
