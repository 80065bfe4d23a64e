#!/usr/bin/env python3
"""Keeps the Helm chart in step with the binary and with `reloader webhook-config`.

Usage: check-chart.py RENDERED_CHART.yaml RELOADER_BINARY WEBHOOK_CONFIG_DIR
       check-chart.py --without-cert-manager RENDERED_CHART.yaml OUT.yaml

Fails when the chart or the plain manifests pass a flag `reloader serve` does not
accept, when a webhook's rules, failure policy, side effects or called path (the
Service's path, or that of webhook.url) differ from what `reloader webhook-config`
renders, or when the ClusterRole grants other permissions than the rendered RBAC. With
cert-manager (the chart's default) it also fails when the Certificate does not cover the
Service, is not the Secret the Deployment mounts, is not the one the webhooks' CA is
injected from, or names an Issuer that is neither rendered nor given.

`--without-cert-manager` writes the rendering without its cert-manager.io objects, whose
schemas kubernetes-validate does not have offline.
"""
import glob
import re
import subprocess
import sys
import urllib.parse

import yaml


def docs(paths):
    for path in paths:
        with open(path) as f:
            yield from (d for d in yaml.safe_load_all(f) if d)


def by_kind(items, kind):
    return [d for d in items if d.get("kind") == kind]


# Fields the chart may set differently: where to call, which namespaces, how long to wait.
LOCAL_FIELDS = {"clientConfig", "namespaceSelector", "timeoutSeconds"}


def webhook_contract(config):
    return {
        w["name"]: {k: v for k, v in w.items() if k not in LOCAL_FIELDS}
        for w in config.get("webhooks", [])
    }


def webhook_paths(config, problems):
    """The path each webhook calls: the Service's path, or the path of its https:// URL."""
    paths = {}
    for w in config.get("webhooks", []):
        client = w.get("clientConfig", {})
        if "url" in client:
            url = urllib.parse.urlsplit(client["url"])
            if url.scheme != "https" or not url.hostname:
                problems.append(f"webhook {w['name']} calls {client['url']!r}: not an https:// URL with a host")
            paths[w["name"]] = url.path
        else:
            paths[w["name"]] = client.get("service", {}).get("path")
    return paths


def main(rendered, binary, config_dir):
    chart = list(docs([rendered]))
    reference = list(docs(glob.glob(f"{config_dir}/*.yaml")))
    problems = []

    help_text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    accepted = set(re.findall(r"--[a-z0-9-]+", help_text))
    for source, items in (("the chart", chart), ("webhook-config/", reference)):
        for deployment in by_kind(items, "Deployment"):
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                for arg in container.get("args", []):
                    flag = arg.split("=", 1)[0]
                    if flag.startswith("--") and flag not in accepted:
                        problems.append(f"{source} passes {flag}, which `reloader serve` does not accept")

    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        want = {k: v for c in by_kind(reference, kind) for k, v in webhook_contract(c).items()}
        got = {k: v for c in by_kind(chart, kind) for k, v in webhook_contract(c).items()}
        if want != got:
            problems.append(f"{kind} differs from `reloader webhook-config`:\n  chart: {got}\n  reloader: {want}")
        # clientConfig may name the Service or a URL (webhook.url), but the path called
        # must be the one the binary serves for that webhook.
        want_paths = {k: v for c in by_kind(reference, kind) for k, v in webhook_paths(c, problems).items()}
        got_paths = {k: v for c in by_kind(chart, kind) for k, v in webhook_paths(c, problems).items()}
        if want_paths != got_paths:
            problems.append(f"{kind} calls other paths than `reloader webhook-config`:\n  chart: {got_paths}\n  reloader: {want_paths}")

    def rules(items):
        return sorted(
            (tuple(r.get("apiGroups", [])), tuple(r.get("resources", [])), tuple(sorted(r.get("verbs", []))))
            for role in by_kind(items, "ClusterRole")
            for r in role.get("rules", [])
        )

    if rules(chart) != rules(reference):
        problems.append(f"ClusterRole rules differ:\n  chart: {rules(chart)}\n  reloader: {rules(reference)}")

    check_cert_manager(chart, problems)

    for p in problems:
        print(f"check-chart: {p}", file=sys.stderr)
    if problems:
        return 1
    print("check-chart: flags, webhooks and RBAC match the binary")
    return 0


def check_cert_manager(chart, problems):
    certificates = by_kind(chart, "Certificate")
    if not certificates:
        return
    if len(certificates) != 1:
        problems.append(f"{len(certificates)} Certificates rendered, expected one")
        return
    cert = certificates[0]
    name, namespace = cert["metadata"]["name"], cert["metadata"]["namespace"]
    spec = cert["spec"]
    for service in by_kind(chart, "Service"):
        host = f"{service['metadata']['name']}.{service['metadata'].get('namespace', namespace)}.svc"
        if host not in spec.get("dnsNames", []):
            problems.append(f"the Certificate does not cover the Service {host}: {spec.get('dnsNames')}")
    mounted = {
        v["secret"]["secretName"]
        for d in by_kind(chart, "Deployment")
        for v in d["spec"]["template"]["spec"].get("volumes", [])
        if "secret" in v
    }
    if spec.get("secretName") not in mounted:
        problems.append(f"the Certificate writes {spec.get('secretName')!r}, the Deployment mounts {sorted(mounted)}")
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        for config in by_kind(chart, kind):
            injected = config["metadata"].get("annotations", {}).get("cert-manager.io/inject-ca-from")
            if injected != f"{namespace}/{name}":
                problems.append(f"{kind} injects its CA from {injected!r}, not {namespace}/{name}")
            for w in config.get("webhooks", []):
                if w.get("clientConfig", {}).get("caBundle"):
                    problems.append(f"webhook {w['name']} sets a caBundle cert-manager would overwrite")
    issuer = spec.get("issuerRef", {})
    rendered_issuers = {d["metadata"]["name"] for d in chart if d.get("kind") == issuer.get("kind")}
    if issuer.get("kind") == "Issuer" and issuer.get("name") not in rendered_issuers and issuer.get("group") is None:
        problems.append(f"the Certificate's Issuer {issuer.get('name')!r} is not rendered")


def without_cert_manager(rendered, out):
    kept = [d for d in docs([rendered]) if not d.get("apiVersion", "").startswith("cert-manager.io/")]
    with open(out, "w") as f:
        yaml.safe_dump_all(kept, f)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--without-cert-manager"]:
        sys.exit(without_cert_manager(*sys.argv[2:]))
    sys.exit(main(*sys.argv[1:]))
