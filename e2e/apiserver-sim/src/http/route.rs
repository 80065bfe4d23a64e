//! Turning a request path into what it addresses.

/// A resource URL: `/api/v1/...` or `/apis/{group}/{version}/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub plural: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Version,
    Health,
    /// `/openapi/{rest}`.
    OpenApi(String),
    CoreVersions,
    GroupList,
    Group(String),
    ResourceList {
        group: String,
        version: String,
    },
    Resource(ResourcePath),
    SimHook(String),
    NotFound,
}

/// Parses a path; `is_namespaced(group, version, plural)` resolves the
/// `namespaces/{x}/{y}` ambiguity (a namespaced resource vs. a namespace subresource).
pub fn parse(path: &str, is_namespaced: impl Fn(&str, &str, &str) -> bool) -> Route {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segments.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz", ..] => Route::Health,
        ["openapi", rest @ ..] => Route::OpenApi(rest.join("/")),
        ["_sim", rest @ ..] => Route::SimHook(rest.join("/")),
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::GroupList,
        ["apis", group] => Route::Group(group.to_string()),
        ["api", version] => Route::ResourceList {
            group: String::new(),
            version: version.to_string(),
        },
        ["apis", group, version] => Route::ResourceList {
            group: group.to_string(),
            version: version.to_string(),
        },
        ["api", version, rest @ ..] => resource_route("", version, rest, &is_namespaced),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest, &is_namespaced),
        _ => Route::NotFound,
    }
}

fn resource_route(
    group: &str,
    version: &str,
    rest: &[&str],
    is_namespaced: &impl Fn(&str, &str, &str) -> bool,
) -> Route {
    let (namespace, rest) = match rest {
        ["namespaces", namespace, plural, tail @ ..] if is_namespaced(group, version, plural) => {
            (Some(namespace.to_string()), [&[*plural][..], tail].concat())
        }
        _ => (None, rest.to_vec()),
    };
    let path = |plural: &str, name: Option<&str>, sub: Option<&str>| {
        Route::Resource(ResourcePath {
            group: group.to_string(),
            version: version.to_string(),
            namespace: namespace.clone(),
            plural: plural.to_string(),
            name: name.map(String::from),
            subresource: sub.map(String::from),
        })
    };
    match rest.as_slice() {
        [plural] => path(plural, None, None),
        [plural, name] => path(plural, Some(name), None),
        [plural, name, sub] => path(plural, Some(name), Some(sub)),
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespaced(_: &str, _: &str, plural: &str) -> bool {
        matches!(plural, "secrets" | "deployments" | "widgets")
    }

    fn resource(
        group: &str,
        ns: Option<&str>,
        plural: &str,
        name: Option<&str>,
        sub: Option<&str>,
    ) -> Route {
        Route::Resource(ResourcePath {
            group: group.into(),
            version: "v1".into(),
            namespace: ns.map(String::from),
            plural: plural.into(),
            name: name.map(String::from),
            subresource: sub.map(String::from),
        })
    }

    #[test]
    fn route_table() {
        let cases = [
            ("/version", Route::Version),
            ("/api", Route::CoreVersions),
            ("/apis", Route::GroupList),
            ("/apis/apps", Route::Group("apps".into())),
            (
                "/api/v1",
                Route::ResourceList {
                    group: String::new(),
                    version: "v1".into(),
                },
            ),
            (
                "/apis/apps/v1",
                Route::ResourceList {
                    group: "apps".into(),
                    version: "v1".into(),
                },
            ),
            (
                "/api/v1/namespaces",
                resource("", None, "namespaces", None, None),
            ),
            (
                "/api/v1/namespaces/ns1",
                resource("", None, "namespaces", Some("ns1"), None),
            ),
            (
                "/api/v1/namespaces/ns1/status",
                resource("", None, "namespaces", Some("ns1"), Some("status")),
            ),
            (
                "/api/v1/namespaces/ns1/secrets",
                resource("", Some("ns1"), "secrets", None, None),
            ),
            (
                "/api/v1/namespaces/ns1/secrets/s",
                resource("", Some("ns1"), "secrets", Some("s"), None),
            ),
            (
                "/apis/apps/v1/namespaces/ns1/deployments/d/status",
                resource(
                    "apps",
                    Some("ns1"),
                    "deployments",
                    Some("d"),
                    Some("status"),
                ),
            ),
            (
                "/apis/apps/v1/deployments",
                resource("apps", None, "deployments", None, None),
            ),
            ("/_sim/faults", Route::SimHook("faults".into())),
            ("/openapi/v3", Route::OpenApi("v3".into())),
            (
                "/openapi/v3/apis/apps/v1",
                Route::OpenApi("v3/apis/apps/v1".into()),
            ),
            ("/nonsense/path", Route::NotFound),
            ("/api/v1/namespaces/a/secrets/b/c/d", Route::NotFound),
        ];
        for (path, expected) in cases {
            assert_eq!(parse(path, namespaced), expected, "{path}");
        }
    }
}
