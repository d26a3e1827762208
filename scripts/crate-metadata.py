"""Checks the crates' manifests for crates.io (scripts/test-packaging.sh): reads
`cargo metadata --no-deps --format-version 1` on stdin; the arguments are the crates meant for
crates.io. The publishable set must be exactly them, each with the metadata crates.io shows."""
import json
import os
import sys

expected = set(sys.argv[1:])
meta = json.load(sys.stdin)
bad = []
publishable = {p["name"] for p in meta["packages"] if p["publish"] != []}
if publishable != expected:
    bad.append(f"publishable crates are {sorted(publishable)}, expected {sorted(expected)}")
for p in meta["packages"]:
    name = p["name"]
    if name not in expected:
        continue
    for field in ("description", "license", "repository", "homepage", "documentation", "readme"):
        if not p.get(field):
            bad.append(f"{name}: no {field}")
    readme = p.get("readme")
    if readme and not os.path.isfile(os.path.join(os.path.dirname(p["manifest_path"]), readme)):
        bad.append(f"{name}: readme {readme} missing")
    if not 1 <= len(p["keywords"]) <= 5:
        bad.append(f"{name}: {len(p['keywords'])} keywords (crates.io takes 1 to 5)")
    if not p["categories"]:
        bad.append(f"{name}: no categories")
    for d in p["dependencies"]:
        if d.get("path") and d["kind"] != "dev" and d["req"] == "*":
            bad.append(f"{name}: path dependency {d['name']} without a version")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print(f"metadata: {len(expected)} publishable crates, fields complete")
