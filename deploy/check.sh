#!/usr/bin/env bash
# Offline checks of the deployment files (a .ci/run step; docs/deployment.md):
#   1. the monitoring objects in deploy/kubernetes/monitoring/ equal what monitoring/'s tested files give;
#   2. every manifest, and the kustomization rendered by `kubectl kustomize`, valid against the schemas of
#      Kubernetes $K8S_VERSION (CRD kinds: deploy/crd_schemas.py); each deploy/tests/invalid/ file must FAIL;
#   3. hadolint over docker/Dockerfile; checkov over the manifests, the Dockerfile, and (secrets) compose.
# Findings are fixed or suppressed on their line with the reason. The tools live in their own virtualenv
# ($PIYASA_INFRA_VENV, default .venv-infra), built from deploy/requirements-infra.txt when it changes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${PIYASA_INFRA_VENV:-.venv-infra}"
K8S_VERSION="${PIYASA_K8S_VERSION:-1.32.0}"
MANIFESTS="${PIYASA_K8S_DIR:-deploy/kubernetes}"
REQUIREMENTS=deploy/requirements-infra.txt

section() { printf -- '--- %s\n' "$*"; }

ensure_venv() {
    local stamp="$VENV/.requirements.sha256" want
    want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        section "installing $REQUIREMENTS into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet -r "$REQUIREMENTS" >"$VENV/pip.log" 2>&1 || {
            cat "$VENV/pip.log"
            return 1
        }
        echo "$want" >"$stamp"
    fi
}

manifest_files() {
    find "$MANIFESTS" -name '*.yaml' ! -name kustomization.yaml | sort
}

validate() {
    local py="$VENV/bin/python" rendered failed=0 file
    section "generated monitoring objects are current"
    "$py" -m deploy.monitoring_manifests --check
    section "schemas: every manifest (Kubernetes $K8S_VERSION, strict)"
    # shellcheck disable=SC2046
    "$py" -m deploy.validate --kubernetes-version "$K8S_VERSION" $(manifest_files) | grep -v "^ok "
    section "schemas: the rendered kustomization"
    rendered="$(mktemp --suffix=.yaml)"
    "$VENV/bin/kubectl" kustomize "$MANIFESTS" >"$rendered"
    "$py" -m deploy.validate --kubernetes-version "$K8S_VERSION" "$rendered" | grep -v "^ok "
    rm -f "$rendered"
    section "schemas: each known-invalid manifest is rejected"
    for file in deploy/tests/invalid/*.yaml; do
        if "$py" -m deploy.validate --kubernetes-version "$K8S_VERSION" "$file" >/dev/null; then
            echo "NOT REJECTED: $file (the validator has stopped checking)"
            failed=1
        else
            echo "rejected as it must be: $file"
        fi
    done
    return "$failed"
}

lint() {
    local checkov=("$VENV/bin/checkov" --compact --quiet --skip-download)
    section "hadolint docker/Dockerfile"
    "$VENV/bin/hadolint" docker/Dockerfile
    echo "hadolint: no findings"
    # --skip-download: no call to Prisma Cloud for guidelines or policies (this network has none anyway).
    section "checkov: Kubernetes manifests"
    "${checkov[@]}" --framework kubernetes -d "$MANIFESTS"
    section "checkov: Dockerfile"
    "${checkov[@]}" --framework dockerfile -f docker/Dockerfile
    # checkov has no policy set for compose files; its secrets scan is what applies to them.
    section "checkov: secrets in docker/ and deploy/"
    "${checkov[@]}" --framework secrets -d docker -d deploy
}

ensure_venv
validate
lint
echo "deploy checks passed"
