//! Metrics as CloudWatch Embedded Metric Format (EMF) lines: one JSON object per line on stdout,
//! which CloudWatch Logs turns into metrics on its own, with no API call and nothing to wait for
//! on the request's path. `template.yaml`'s dashboard and alarms read them (namespace
//! [`NAMESPACE`]); `.ci/template_rules.py` checks that every alarm names a metric listed in
//! [`EMITTED`].
//!
//! - per route (dimension `Route`, API Gateway's route key such as `POST /payments`): `Latency`
//!   (ms), `Requests`, `ServerErrors` (5xx), `ClientErrors` (4xx);
//! - per room and tick (dimension `Room`): `Waiting`, `Active`, `Admitted`, `SeatsAvailable`;
//! - per tick of the admission schedule (no dimension): `TickLag` (ms from the tick's start to its
//!   end: a tick falling behind its period);
//! - per relay round: `OutboxOldestAge` (ms: the oldest payment event Kafka has not acknowledged);
//! - per payment event counted by the sales ledger: `Sales`.
//!
//! Lines are written on Lambda (or with `METRICS=emf`); elsewhere (tests, the local gateway)
//! nothing is printed.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric here.
pub const NAMESPACE: &str = "Ticketing";

/// Every metric name this module emits.
pub const EMITTED: &[&str] = &[
    "Latency",
    "Requests",
    "ServerErrors",
    "ClientErrors",
    "Waiting",
    "Active",
    "Admitted",
    "SeatsAvailable",
    "TickLag",
    "OutboxOldestAge",
    "Sales",
];

/// A metric's unit, as EMF names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Count,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Milliseconds => "Milliseconds",
            Unit::Count => "Count",
        }
    }
}

/// One EMF line: its dimensions (name and value) and its metrics (name, unit, value).
pub struct Line {
    timestamp_ms: u64,
    dimensions: Vec<(&'static str, String)>,
    metrics: Vec<(&'static str, Unit, f64)>,
}

impl Line {
    pub fn new(timestamp_ms: u64) -> Self {
        Line { timestamp_ms, dimensions: Vec::new(), metrics: Vec::new() }
    }

    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.dimensions.push((name, value.into()));
        self
    }

    pub fn metric(mut self, name: &'static str, unit: Unit, value: f64) -> Self {
        debug_assert!(EMITTED.contains(&name), "{name} is not listed in EMITTED");
        self.metrics.push((name, unit, value));
        self
    }

    /// The JSON object: the `_aws` metadata, then each dimension and metric as a member.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        let metrics: Vec<Value> = self.metrics.iter().map(|(name, unit, _)| json!({ "Name": name, "Unit": unit.as_str() })).collect();
        let dimensions: Vec<&str> = self.dimensions.iter().map(|(name, _)| *name).collect();
        // With dimensions, also the same metrics without them (the whole API, all rooms): one
        // more dimension set, no more lines.
        let sets = if dimensions.is_empty() { json!([dimensions]) } else { json!([dimensions, []]) };
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": self.timestamp_ms,
                "CloudWatchMetrics": [{ "Namespace": NAMESPACE, "Dimensions": sets, "Metrics": metrics }],
            }),
        );
        for (name, value) in &self.dimensions {
            root.insert((*name).into(), Value::String(value.clone()));
        }
        for (name, _, value) in &self.metrics {
            root.insert((*name).into(), json!(value));
        }
        Value::Object(root)
    }

    /// Writes the line where CloudWatch Logs reads it, when metrics are on.
    pub fn emit(&self) {
        if enabled() {
            println!("{}", self.to_json());
        }
    }
}

/// On Lambda, or with `METRICS=emf`.
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| match std::env::var("METRICS") {
        Ok(v) => v.eq_ignore_ascii_case("emf"),
        Err(_) => std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some(),
    })
}

/// One HTTP answer of `route`.
pub fn request(route: &str, status: u16, latency_ms: f64, now_ms: u64) -> Line {
    Line::new(now_ms)
        .dimension("Route", route)
        .metric("Latency", Unit::Milliseconds, latency_ms)
        .metric("Requests", Unit::Count, 1.0)
        .metric("ServerErrors", Unit::Count, f64::from(u8::from(status >= 500)))
        .metric("ClientErrors", Unit::Count, f64::from(u8::from((400..500).contains(&status))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules of the EMF specification (docs.aws.amazon.com, "Embedded metric format
    /// specification") that a line must keep to be taken as metrics.
    fn assert_valid_emf(line: &Value) {
        let aws = &line["_aws"];
        assert!(aws["Timestamp"].is_u64(), "Timestamp is epoch milliseconds: {line}");
        let directives = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics is an array");
        assert!(!directives.is_empty());
        for d in directives {
            let namespace = d["Namespace"].as_str().expect("Namespace");
            assert!(!namespace.is_empty() && namespace.len() <= 1024);
            let sets = d["Dimensions"].as_array().expect("Dimensions is an array of arrays");
            for set in sets {
                let set = set.as_array().expect("a dimension set is an array");
                assert!(set.len() <= 30, "at most 30 dimensions a set");
                for name in set {
                    let name = name.as_str().expect("a dimension is named by a string");
                    assert!(line[name].is_string(), "dimension {name} has a string value in the line: {line}");
                }
            }
            let metrics = d["Metrics"].as_array().expect("Metrics is an array");
            assert!(!metrics.is_empty() && metrics.len() <= 100, "1 to 100 metrics a directive");
            for m in metrics {
                let name = m["Name"].as_str().expect("a metric has a Name");
                assert!(!name.is_empty() && name.len() <= 1024);
                let unit = m["Unit"].as_str().unwrap_or("None");
                assert!(["Milliseconds", "Count", "None"].contains(&unit), "a unit CloudWatch knows: {unit}");
                assert!(line[name].is_number(), "metric {name} has a number in the line: {line}");
                assert!(EMITTED.contains(&name), "{name} is listed in EMITTED");
            }
        }
    }

    #[test]
    fn a_request_line_keeps_to_the_emf_specification() {
        let line = request("POST /payments", 503, 12.5, 1_800_000_000_000).to_json();
        assert_valid_emf(&line);
        assert_eq!(line["Route"], "POST /payments");
        assert_eq!(
            (line["Latency"].as_f64(), line["ServerErrors"].as_f64(), line["ClientErrors"].as_f64()),
            (Some(12.5), Some(1.0), Some(0.0))
        );
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Route"], []]), "per route and for the whole API");
    }

    #[test]
    fn room_tick_relay_and_sales_lines_keep_to_it_too() {
        let room = Line::new(1)
            .dimension("Room", "c1")
            .metric("Waiting", Unit::Count, 10.0)
            .metric("Active", Unit::Count, 2.0)
            .metric("Admitted", Unit::Count, 1.0)
            .metric("SeatsAvailable", Unit::Count, 40.0);
        assert_valid_emf(&room.to_json());
        assert_valid_emf(&Line::new(1).metric("TickLag", Unit::Milliseconds, 3.0).to_json());
        assert_valid_emf(&Line::new(1).metric("OutboxOldestAge", Unit::Milliseconds, 0.0).to_json());
        assert_valid_emf(&Line::new(1).metric("Sales", Unit::Count, 2.0).to_json());
        assert_eq!(
            Line::new(1).metric("TickLag", Unit::Milliseconds, 3.0).to_json()["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
    }
}
