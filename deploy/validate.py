"""Validates every Kubernetes manifest offline: built-in kinds against the OpenAPI schemas of one Kubernetes
release shipped by `kubernetes-validate` (strict: unknown fields are errors), the CRD kinds we use against
the schemas in deploy/crd_schemas.py. A kind with neither is an error, never a silent skip.

    python -m deploy.validate [--kubernetes-version 1.32.0] FILE...   (run by deploy/check.sh)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from deploy.crd_schemas import CRD_SCHEMAS

# The oldest Kubernetes release still in upstream support when this was written; the manifests use
# nothing newer (policy/v1, autoscaling/v2, networking.k8s.io/v1 are GA well before it).
KUBERNETES_VERSION = "1.32.0"


def validate_document(document: dict[str, Any], version: str) -> str | None:
    """None when the object is valid, else why not."""
    key = (document.get("apiVersion", ""), document.get("kind", ""))
    if key in CRD_SCHEMAS:
        try:
            jsonschema.validate(document, CRD_SCHEMAS[key])
        except jsonschema.ValidationError as error:
            return f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        return None
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return f"{'.'.join(str(p) for p in error.path) or '<root>'}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError as error:
        return f"no schema for {key[1]} {key[0]}: {error}"
    return None


def validate_file(path: Path, version: str) -> list[str]:
    """Every problem of every object in one (multi-document) file, each naming the object."""
    problems = []
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if document is None:
            continue
        name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        problem = validate_document(document, version)
        if problem:
            problems.append(f"{path}: {name}: {problem}")
        else:
            print(f"ok  {path}: {name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-version", default=KUBERNETES_VERSION)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    problems = [problem for path in args.files for problem in validate_file(path, args.kubernetes_version)]
    for problem in problems:
        print(f"INVALID {problem}")
    print(f"{len(args.files)} files, Kubernetes {args.kubernetes_version}: {len(problems)} invalid objects")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
