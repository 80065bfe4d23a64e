//! stakater/Reloader's behaviour matrix: which annotation and which kind of reference makes
//! a workload follow which change. One cluster, one reloader, one workload per row, each
//! with its own sources so rows cannot disturb each other.

use std::time::Duration;

use crate::cluster_harness::{Cluster, env_value};

struct Row {
    name: &'static str,
    annotations: &'static str,
    template_annotations: &'static str,
    /// The pod spec under `spec.template.spec` (YAML, indented 6).
    pod: &'static str,
    /// Sources to create first.
    sources: &'static str,
    /// The change (YAML applied with kubectl).
    change: &'static str,
    rolls: bool,
}

const C: &str = "      containers:\n      - name: app\n        image: nginx\n";

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "auto",
            annotations: r#"reloader.stakater.com/auto: "true""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        env: [{name: X, valueFrom: {secretKeyRef: {name: auto-s, key: k}}}]\n",
            sources: "kind: Secret\napiVersion: v1\nmetadata: {name: auto-s, namespace: m}\nstringData: {k: a}\n",
            change: "kind: Secret\napiVersion: v1\nmetadata: {name: auto-s, namespace: m}\nstringData: {k: b}\n",
            rolls: true,
        },
        Row {
            name: "typed-auto-secret",
            annotations: r#"secret.reloader.stakater.com/auto: "true""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        volumeMounts: [{name: v, mountPath: /v}]\n      volumes: [{name: v, secret: {secretName: typed-s}}]\n",
            sources: "kind: Secret\napiVersion: v1\nmetadata: {name: typed-s, namespace: m}\nstringData: {k: a}\n",
            change: "kind: Secret\napiVersion: v1\nmetadata: {name: typed-s, namespace: m}\nstringData: {k: b}\n",
            rolls: true,
        },
        Row {
            name: "typed-auto-other-kind",
            annotations: r#"secret.reloader.stakater.com/auto: "true""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        envFrom: [{configMapRef: {name: typed-c}}]\n",
            sources: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: typed-c, namespace: m}\ndata: {k: a}\n",
            change: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: typed-c, namespace: m}\ndata: {k: b}\n",
            rolls: false,
        },
        Row {
            name: "reload-list-regex",
            annotations: r#"configmap.reloader.stakater.com/reload: "rx-.*""#,
            template_annotations: "",
            pod: C,
            sources: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: rx-one, namespace: m}\ndata: {k: a}\n",
            change: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: rx-one, namespace: m}\ndata: {k: b}\n",
            rolls: true,
        },
        Row {
            name: "search-match-projected",
            annotations: r#"reloader.stakater.com/search: "true""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        volumeMounts: [{name: p, mountPath: /p}]\n      volumes: [{name: p, projected: {sources: [{configMap: {name: match-c}}]}}]\n",
            sources: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: match-c, namespace: m, annotations: {reloader.stakater.com/match: \"true\"}}\ndata: {k: a}\n",
            change: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: match-c, namespace: m, annotations: {reloader.stakater.com/match: \"true\"}}\ndata: {k: b}\n",
            rolls: true,
        },
        Row {
            name: "search-without-match",
            annotations: r#"reloader.stakater.com/search: "true""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        envFrom: [{configMapRef: {name: nomatch-c}}]\n",
            sources: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: nomatch-c, namespace: m}\ndata: {k: a}\n",
            change: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: nomatch-c, namespace: m}\ndata: {k: b}\n",
            rolls: false,
        },
        Row {
            name: "ignored-source",
            annotations: r#"reloader.stakater.com/auto: "true""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        envFrom: [{secretRef: {name: ign-s}}]\n",
            sources: "kind: Secret\napiVersion: v1\nmetadata: {name: ign-s, namespace: m, annotations: {reloader.stakater.com/ignore: \"true\"}}\nstringData: {k: a}\n",
            change: "kind: Secret\napiVersion: v1\nmetadata: {name: ign-s, namespace: m, annotations: {reloader.stakater.com/ignore: \"true\"}}\nstringData: {k: b}\n",
            rolls: false,
        },
        Row {
            name: "excluded-source",
            annotations: r#"reloader.stakater.com/auto: "true", secrets.exclude.reloader.stakater.com/reload: excl-s"#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        envFrom: [{secretRef: {name: excl-s}}]\n",
            sources: "kind: Secret\napiVersion: v1\nmetadata: {name: excl-s, namespace: m}\nstringData: {k: a}\n",
            change: "kind: Secret\napiVersion: v1\nmetadata: {name: excl-s, namespace: m}\nstringData: {k: b}\n",
            rolls: false,
        },
        Row {
            name: "auto-false",
            annotations: r#"reloader.stakater.com/auto: "false""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        envFrom: [{secretRef: {name: af-s}}]\n",
            sources: "kind: Secret\napiVersion: v1\nmetadata: {name: af-s, namespace: m}\nstringData: {k: a}\n",
            change: "kind: Secret\napiVersion: v1\nmetadata: {name: af-s, namespace: m}\nstringData: {k: b}\n",
            rolls: false,
        },
        Row {
            name: "template-annotations",
            annotations: "",
            template_annotations: r#"reloader.stakater.com/auto: "true""#,
            pod: "      containers:\n      - name: app\n        image: nginx\n        envFrom: [{configMapRef: {name: tpl-c}}]\n",
            sources: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: tpl-c, namespace: m}\ndata: {k: a}\n",
            change: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: tpl-c, namespace: m}\ndata: {k: b}\n",
            rolls: true,
        },
        Row {
            name: "init-container",
            annotations: r#"reloader.stakater.com/auto: "true""#,
            template_annotations: "",
            pod: "      initContainers:\n      - name: init\n        image: busybox\n        env: [{name: X, valueFrom: {secretKeyRef: {name: init-s, key: k}}}]\n      containers:\n      - name: app\n        image: nginx\n",
            sources: "kind: Secret\napiVersion: v1\nmetadata: {name: init-s, namespace: m}\nstringData: {k: a}\n",
            change: "kind: Secret\napiVersion: v1\nmetadata: {name: init-s, namespace: m}\nstringData: {k: b}\n",
            rolls: true,
        },
        Row {
            name: "binary-data",
            annotations: r#"reloader.stakater.com/auto: "true""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        volumeMounts: [{name: v, mountPath: /v}]\n      volumes: [{name: v, configMap: {name: bin-c}}]\n",
            sources: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: bin-c, namespace: m}\nbinaryData: {blob: AAEC}\n",
            change: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: bin-c, namespace: m}\nbinaryData: {blob: AAED}\n",
            rolls: true,
        },
        Row {
            name: "label-only",
            annotations: r#"reloader.stakater.com/auto: "true""#,
            template_annotations: "",
            pod: "      containers:\n      - name: app\n        image: nginx\n        envFrom: [{configMapRef: {name: lbl-c}}]\n",
            sources: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: lbl-c, namespace: m}\ndata: {k: a}\n",
            change: "kind: ConfigMap\napiVersion: v1\nmetadata: {name: lbl-c, namespace: m, labels: {team: x}}\ndata: {k: a}\n",
            rolls: false,
        },
    ]
}

fn workload(row: &Row) -> String {
    let name = row.name;
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: m\n  annotations: {{{}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n      annotations: {{{}}}\n    spec:\n{}",
        row.annotations, row.template_annotations, row.pod
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakater_annotations_and_references_decide_who_rolls() {
    let mut cluster = Cluster::start().await;
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: m}\n");
    let rows = rows();
    let setup: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.sources.to_string(), workload(r)])
        .collect();
    cluster.apply(&setup.join("---\n"));
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    let changes: Vec<&str> = rows.iter().map(|r| r.change).collect();
    cluster.apply(&changes.join("---\n"));
    for row in rows.iter().filter(|r| r.rolls) {
        cluster.wait_generation("m", row.name, 2).await;
    }
    // Every expected rollout happened; the others had the same time to happen (and more).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut wrong = Vec::new();
    for row in &rows {
        let generation = cluster.generation("m", row.name).await;
        let rolled = generation == 2;
        if rolled != row.rolls || generation > 2 {
            wrong.push(format!(
                "{}: generation {generation}, expected rollout: {}",
                row.name, row.rolls
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "rows that behaved wrongly:\n{}",
        wrong.join("\n")
    );
    // The init-container-only reference puts the marker on the first main container.
    let d = cluster.deployment("m", "init-container").await;
    assert!(env_value(&d, "STAKATER_INIT_S_SECRET").is_some());
}

const CREATE_DELETE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: m}
---
apiVersion: v1
kind: Secret
metadata: {name: gone-s, namespace: m}
stringData: {k: a}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: follower
  namespace: m
  annotations: {secret.reloader.stakater.com/reload: "new-s,gone-s"}
spec:
  selector: {matchLabels: {app: f}}
  template:
    metadata: {labels: {app: f}}
    spec:
      containers: [{name: app, image: nginx}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_and_deleting_sources_roll_only_when_asked() {
    // Off (the default): neither a create nor a delete rolls.
    let mut cluster = Cluster::start().await;
    cluster.apply(CREATE_DELETE);
    let mut reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "new-s",
        "-n",
        "m",
        "--from-literal=k=a",
    ]);
    cluster.kubectl(&["delete", "secret", "gone-s", "-n", "m"]);
    cluster
        .stays_at("m", "follower", 1, Duration::from_millis(1500))
        .await;
    reloader.kill();

    // On: each rolls once.
    cluster.kubectl(&["delete", "secret", "new-s", "-n", "m"]);
    cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "gone-s",
        "-n",
        "m",
        "--from-literal=k=a",
    ]);
    let _reloader = cluster.start_reloader(&["--reload-on-create", "--reload-on-delete"]);
    cluster.kubectl(&[
        "create",
        "secret",
        "generic",
        "new-s",
        "-n",
        "m",
        "--from-literal=k=b",
    ]);
    cluster.wait_generation("m", "follower", 2).await;
    cluster.kubectl(&["delete", "secret", "gone-s", "-n", "m"]);
    cluster.wait_generation("m", "follower", 3).await;
    cluster
        .stays_at("m", "follower", 3, Duration::from_millis(800))
        .await;
}
