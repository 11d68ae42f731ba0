//! template.yaml, the `cargo lambda watch` router in Cargo.toml and `functions/` must name the
//! same functions with the same routes. (The template uses CloudFormation tags that plain YAML
//! parsers reject, so this reads the regular shape the template is written in.)

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

fn value_after<'a>(lines: &[&'a str], from: usize, key: &str) -> Option<&'a str> {
    lines[from..].iter().map(|l| l.trim()).find_map(|l| l.strip_prefix(key)).map(str::trim)
}

/// (function, Some((method, path))) for each function in template.yaml.
fn template_functions() -> BTreeSet<(String, Option<(String, String)>)> {
    let text = read("template.yaml");
    let lines: Vec<&str> = text.lines().collect();
    let mut found = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(binary) = line.trim().strip_prefix("Binary:") else { continue };
        let end = lines[i..].iter().position(|l| l.starts_with("  ") && !l.starts_with("   ") && l.trim_end().ends_with(':')).map_or(lines.len(), |p| i + p);
        let block = &lines[i..end];
        let route = match (value_after(block, 0, "Method:"), value_after(block, 0, "Path:")) {
            (Some(m), Some(p)) => Some((m.to_string(), p.to_string())),
            _ => None,
        };
        found.insert((binary.trim().to_string(), route));
    }
    found
}

#[test]
fn every_function_is_in_the_template_and_nothing_else() {
    let packages: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let in_template: BTreeSet<String> = template_functions().into_iter().map(|(name, _)| name).collect();
    assert_eq!(packages, in_template);
}

#[test]
fn http_routes_match_the_watch_router() {
    let cargo = read("Cargo.toml");
    let router = cargo.split("[workspace.metadata.lambda.watch.router]").nth(1).unwrap().split("\n[").next().unwrap();
    let mut watch = BTreeSet::new();
    for line in router.lines().filter(|l| l.starts_with('"')) {
        let path = line.split('"').nth(1).unwrap();
        for entry in line.split("{ method = ").skip(1) {
            let method = entry.split('"').nth(1).unwrap();
            let function = entry.split("function = \"").nth(1).unwrap().split('"').next().unwrap();
            watch.insert((function.to_string(), Some((method.to_string(), path.to_string()))));
        }
    }
    let http: BTreeSet<_> = template_functions().into_iter().filter(|(_, route)| route.is_some()).collect();
    assert_eq!(http, watch);
}

#[test]
fn the_kafka_trigger_has_both_event_sources_with_partial_batch_responses() {
    let text = read("template.yaml");
    for mapping in ["SelfManagedKafkaTrigger:", "MskTrigger:"] {
        let at = text.find(mapping).unwrap_or_else(|| panic!("{mapping} missing"));
        let block = &text[at..text[at..].find("\n\n").map_or(text.len(), |e| at + e)];
        assert!(block.contains("FunctionName: !Ref OnPaymentCompletedFunction"), "{mapping}");
        assert!(block.contains("ReportBatchItemFailures"), "{mapping}");
    }
}

#[test]
fn every_schedule_function_has_a_schedule() {
    let text = read("template.yaml");
    for name in ["activate-queue", "expire-holds", "outbox-relay"] {
        let at = text.find(&format!("Binary: {name}")).unwrap();
        let block = &text[at..text[at..].find("\n\n").map_or(text.len(), |e| at + e)];
        assert!(block.contains("Type: ScheduleV2") && block.contains("rate(1 minute)"), "{name}");
    }
}
