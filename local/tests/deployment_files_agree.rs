//! template.yaml, the `cargo lambda watch` router in Cargo.toml and `functions/` must name the
//! same functions with the same routes.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// (function, route) for each function in template.yaml.
fn template_functions() -> BTreeSet<(String, Option<(String, String)>)> {
    local_stack::template::functions(&read("template.yaml")).into_iter().map(|f| (f.binary, f.route)).collect()
}

#[test]
fn every_function_is_in_the_template_and_nothing_else() {
    let packages: BTreeSet<String> =
        std::fs::read_dir(root().join("functions")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
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
fn the_kafka_trigger_has_both_event_sources_with_a_starting_position_and_partial_batch_responses_when_provisioned() {
    // .ci/template_rules.py checks the expanded template in every mode; this is the quick look.
    let text = read("template.yaml");
    for mapping in ["SelfManagedKafkaTrigger:", "MskTrigger:"] {
        let at = text.find(mapping).unwrap_or_else(|| panic!("{mapping} missing"));
        let block = &text[at..text[at..].find("\n\n").map_or(text.len(), |e| at + e)];
        assert!(block.contains("FunctionName: !Ref OnPaymentCompletedFunction"), "{mapping}");
        assert!(block.contains("StartingPosition: TRIM_HORIZON"), "{mapping}");
        assert!(
            block.contains("FunctionResponseTypes: !If [UseProvisionedPollers, [ReportBatchItemFailures], !Ref AWS::NoValue]"),
            "{mapping}"
        );
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

#[test]
fn every_function_has_an_invoke_event_that_matches_its_route_and_the_dev_secret() {
    use lambda_http::RequestExt;
    let secret = read("local/dev.env").lines().find_map(|l| l.strip_prefix("AUTH_SECRET=")).unwrap().to_owned();
    let signer = ticketing::domain::tokens::TokenSigner::new(secret.as_bytes());
    for f in local_stack::template::functions(&read("template.yaml")) {
        let text = std::fs::read_to_string(root().join(format!("local/events/{}.json", f.binary)))
            .unwrap_or_else(|_| panic!("local/events/{}.json is missing", f.binary));
        let Some((method, route)) = f.route else {
            serde_json::from_str::<serde_json::Value>(&text).unwrap();
            continue;
        };
        let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.binary));
        assert_eq!(req.method().as_str(), method, "{}", f.binary);
        let mut path = route.clone();
        for (name, value) in req.path_parameters().iter() {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        assert_eq!(req.uri().path(), path, "{}", f.binary);
        if let Some(auth) = req.headers().get("authorization") {
            let token = auth.to_str().unwrap().trim_start_matches("Bearer ");
            assert!(signer.verify_access(token, ticketing::domain::now_ms() / 1000).is_ok(), "{}", f.binary);
        }
        if let Some(queue) = req.headers().get("queue-token") {
            assert_eq!(signer.verify_queue(queue.to_str().unwrap()).unwrap().number, 0, "{}", f.binary);
        }
    }
}

/// `docs/openapi.json`, the contract the gateway serves at `/openapi.json`, documents exactly the
/// template's routes (operationId = function), every error code with its status, and nothing else.
#[test]
fn the_openapi_document_matches_the_template_and_the_error_codes() {
    use serde_json::Value;
    use ticketing::error::ErrorCode;
    let doc: Value = serde_json::from_str(local_stack::gateway::OPENAPI).expect("docs/openapi.json is JSON");
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
    let mut documented = BTreeSet::new();
    let mut codes_by_status = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap().iter().filter(|(m, _)| METHODS.contains(&m.as_str())) {
            let function = operation["operationId"].as_str().unwrap().to_owned();
            documented.insert((function.clone(), Some((method.to_uppercase(), path.clone()))));
            for (status, response) in operation["responses"].as_object().unwrap() {
                // A `$ref` to components.responses, or the response itself.
                let response = match response["$ref"].as_str() {
                    Some(r) => &doc["components"]["responses"][r.rsplit('/').next().unwrap()],
                    None => response,
                };
                for code in response["x-problem-codes"].as_array().into_iter().flatten() {
                    codes_by_status.insert((status.parse::<u16>().unwrap(), code.as_str().unwrap().to_owned(), function.clone()));
                }
            }
        }
    }
    let http: BTreeSet<_> = template_functions().into_iter().filter(|(_, route)| route.is_some()).collect();
    assert_eq!(documented, http, "openapi.json paths vs template.yaml routes");

    let defined: BTreeSet<(u16, String)> = ErrorCode::ALL.iter().map(|c| (c.status().as_u16(), c.as_str().to_owned())).collect();
    let mut enumerated: BTreeSet<String> = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    // The gateway's own answers, as API Gateway gives them before any function.
    for gateway_code in ["NO_ROUTE", "METHOD_NOT_ALLOWED"] {
        assert!(enumerated.remove(gateway_code), "{gateway_code} in the Problem enum");
    }
    assert_eq!(enumerated, defined.iter().map(|(_, c)| c.clone()).collect(), "Problem.code enum vs ErrorCode");
    for (status, code, function) in &codes_by_status {
        assert!(defined.contains(&(*status, code.clone())), "{function} lists {code} under {status}, but {code} is not a {status}");
    }
    // Every code some operation can answer is listed under at least one of them.
    let listed: BTreeSet<&String> = codes_by_status.iter().map(|(_, code, _)| code).collect();
    for (_, code) in &defined {
        if code != "MISSING_PATH_PARAMETER" {
            assert!(listed.contains(code), "no operation lists {code}");
        }
    }
}
