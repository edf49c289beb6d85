"""JSON Schemas of the custom resources the manifests use, for offline validation (deploy/validate.py).

kubernetes-validate ships only the built-in kinds. These are written from the CRDs' API references
(prometheus-operator monitoring.coreos.com/v1, KEDA keda.sh/v1alpha1) and cover the fields we set, strictly:
an unknown or misspelt field is an error, as it would be for a built-in kind. Add a field here when a
manifest starts using it.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_STRINGS: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA: Schema = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "namespace": {"type": "string"},
        "labels": _STRINGS,
        "annotations": _STRINGS,
    },
}
_LABEL_SELECTOR: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchLabels": _STRINGS,
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "operator"],
                "additionalProperties": False,
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
_DURATION: Schema = {
    "type": "string",
    "pattern": "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}
_ENDPOINT: Schema = {
    "type": "object",
    "required": ["port"],
    "additionalProperties": False,
    "properties": {
        "port": {"type": "string"},
        "path": {"type": "string"},
        "interval": _DURATION,
        "scrapeTimeout": _DURATION,
    },
}
_RULE: Schema = {
    "type": "object",
    "required": ["expr"],
    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
    "additionalProperties": False,
    "properties": {
        "alert": {"type": "string"},
        "record": {"type": "string"},
        "expr": {"type": ["string", "integer"]},
        "for": _DURATION,
        "labels": _STRINGS,
        "annotations": _STRINGS,
    },
}


def _object(api_version: str, kind: str, spec: Schema) -> Schema:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": spec,
        },
    }


_PROMETHEUS_RULE = _object(
    "monitoring.coreos.com/v1",
    "PrometheusRule",
    {
        "type": "object",
        "required": ["groups"],
        "additionalProperties": False,
        "properties": {
            "groups": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "rules"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "interval": _DURATION,
                        "rules": {"type": "array", "items": _RULE},
                    },
                },
            }
        },
    },
)


def _monitor(kind: str, endpoints: str) -> Schema:
    """ServiceMonitor and PodMonitor: a label selector and at least one scrape endpoint."""
    spec = {
        "type": "object",
        "required": ["selector", endpoints],
        "additionalProperties": False,
        "properties": {"selector": _LABEL_SELECTOR, endpoints: {"type": "array", "minItems": 1, "items": _ENDPOINT}},
    }
    return _object("monitoring.coreos.com/v1", kind, spec)


_TRIGGER: Schema = {
    "type": "object",
    "required": ["type", "metadata"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["redis", "cpu", "memory"]},
        "metricType": {"enum": ["Utilization", "AverageValue", "Value"]},
        "metadata": _STRINGS,
        "authenticationRef": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
    },
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "redis"}}},
            "then": {"properties": {"metadata": {"required": ["listName", "listLength"]}}},
        }
    ],
}
_SCALED_OBJECT = _object(
    "keda.sh/v1alpha1",
    "ScaledObject",
    {
        "type": "object",
        "required": ["scaleTargetRef", "triggers"],
        "additionalProperties": False,
        "properties": {
            "scaleTargetRef": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "kind": {"type": "string"},
                    "apiVersion": {"type": "string"},
                },
            },
            "minReplicaCount": {"type": "integer", "minimum": 0},
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "pollingInterval": {"type": "integer", "minimum": 1},
            "cooldownPeriod": {"type": "integer", "minimum": 0},
            "triggers": {"type": "array", "minItems": 1, "items": _TRIGGER},
        },
    },
)

CRD_SCHEMAS: dict[tuple[str, str], Schema] = {
    ("monitoring.coreos.com/v1", "PrometheusRule"): _PROMETHEUS_RULE,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): _monitor("ServiceMonitor", "endpoints"),
    ("monitoring.coreos.com/v1", "PodMonitor"): _monitor("PodMonitor", "podMetricsEndpoints"),
    ("keda.sh/v1alpha1", "ScaledObject"): _SCALED_OBJECT,
}
