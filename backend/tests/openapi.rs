//! `openapi.yaml` documents exactly the routes the server answers.

use std::collections::BTreeSet;

/// (method, path) pairs under `paths:` in the OpenAPI file: a path is a two-space-indented
/// key starting with `/`, a method a four-space-indented HTTP verb under it.
fn documented(yaml: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut path = None;
    let mut in_paths = false;
    for line in yaml.lines() {
        if !line.starts_with(' ') {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = Some(format!("/{p}"));
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && ["get", "post", "put", "delete", "patch"].contains(&m)
        {
            out.insert((m.to_owned(), path.clone().expect("method before any path")));
        }
    }
    out
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let yaml = include_str!("../openapi.yaml");
    let spec = documented(yaml);
    let routes: BTreeSet<(String, String)> = doorkey_backend::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = routes.difference(&spec).collect();
    let missing: Vec<_> = spec.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.yaml: {undocumented:?}"
    );
    assert!(
        missing.is_empty(),
        "openapi.yaml documents routes the server lacks: {missing:?}"
    );
    assert!(
        routes.len() >= 16,
        "the route table is suspiciously small: {routes:?}"
    );
}

#[test]
fn the_parser_sees_a_route_that_is_not_served() {
    let yaml = "paths:\n  /v1/nothing:\n    get:\n      summary: x\n";
    let spec = documented(yaml);
    assert_eq!(spec.len(), 1);
    assert!(
        !doorkey_backend::ROUTES
            .iter()
            .any(|(m, p)| spec.contains(&(m.to_string(), p.to_string())))
    );
}
