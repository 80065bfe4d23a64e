use super::*;

#[test]
fn every_kind_parses_back_from_its_name() {
    for kind in WorkloadKind::ALL {
        assert_eq!(kind.as_str().parse::<WorkloadKind>(), Ok(kind));
    }
}

#[test]
fn unknown_kind_is_a_typed_error_naming_the_allowed_kinds() {
    let cases = [
        ("a kind we do not roll", "Pod"),
        ("the right name in the wrong case", "deployment"),
        ("nothing", ""),
    ];
    for (name, given) in cases {
        let err = given.parse::<WorkloadKind>().unwrap_err();
        assert_eq!(err, UnknownKind(given.to_owned()), "{name}");
        assert_eq!(
            err.to_string(),
            format!(
                "unknown workload kind {given:?}: expected one of Deployment, StatefulSet, \
                 DaemonSet, CronJob, Rollout, DeploymentConfig, Job"
            ),
            "{name}"
        );
    }
}

#[test]
fn every_row_belongs_to_its_kind() {
    for kind in WorkloadKind::ALL {
        let spec = kind.spec();
        assert_eq!(spec.kind, kind);
        assert_eq!(spec.lower, spec.name.to_ascii_lowercase());
        assert_eq!(spec.plural, format!("{}s", spec.lower));
        assert!(spec.template.starts_with("/spec/"), "{kind}");
    }
    assert_eq!(KINDS.len(), WorkloadKind::ALL.len());
}

#[test]
fn where_each_kind_lives_in_the_api() {
    let cases = [
        (WorkloadKind::Deployment, "apps/v1", "deployments"),
        (WorkloadKind::CronJob, "batch/v1", "cronjobs"),
        (WorkloadKind::Job, "batch/v1", "jobs"),
        (WorkloadKind::Rollout, "argoproj.io/v1alpha1", "rollouts"),
        (
            WorkloadKind::DeploymentConfig,
            "apps.openshift.io/v1",
            "deploymentconfigs",
        ),
    ];
    for (kind, api_version, plural) in cases {
        assert_eq!(
            (kind.api_version().as_str(), kind.spec().plural),
            (api_version, plural)
        );
    }
    let optional: Vec<_> = KINDS
        .iter()
        .filter(|k| k.optional_api)
        .map(|k| k.kind)
        .collect();
    assert_eq!(
        optional,
        [WorkloadKind::Rollout, WorkloadKind::DeploymentConfig]
    );
    let recreated: Vec<_> = KINDS
        .iter()
        .filter(|k| k.recreates || k.opt_in)
        .map(|k| (k.kind, k.recreates, k.opt_in))
        .collect();
    assert_eq!(
        recreated,
        [(WorkloadKind::Job, true, true)],
        "only Jobs are re-created, and only when asked for"
    );
}

#[test]
fn cronjob_template_lives_under_the_job_template() {
    assert_eq!(
        WorkloadKind::CronJob.template_pointer(),
        "/spec/jobTemplate/spec/template"
    );
    assert_eq!(
        WorkloadKind::Deployment.template_pointer(),
        "/spec/template"
    );
}
