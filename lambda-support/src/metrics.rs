//! CloudWatch Embedded Metric Format: a metric is one JSON line on stdout that CloudWatch Logs
//! turns into a metric, with no API call on the hot path. Each line also carries the same metrics
//! without dimensions, so an alarm can watch the total.
//!
//! Lines are written only inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` set): the local tools that
//! run the same code in-process stay quiet.

use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// The namespace of every metric of the project (the CDK app's alarms and dashboard read it).
pub const NAMESPACE: &str = "Passwordless";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// The EMF line for `metrics` with `dimensions` (names and values), at `timestamp_ms`.
pub fn emf_line(dimensions: &[(&str, &str)], metrics: &[(&str, Unit, f64)], timestamp_ms: i64) -> String {
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let dimension_sets = if names.is_empty() { json!([[]]) } else { json!([names, []]) };
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": dimension_sets,
                "Metrics": metrics.iter().map(|(n, u, _)| json!({"Name": n, "Unit": u.as_str()})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (k, v) in dimensions {
        line.insert((*k).into(), Value::String((*v).into()));
    }
    for (n, _, v) in metrics {
        line.insert((*n).into(), json!(v));
    }
    Value::Object(line).to_string()
}

fn in_lambda() -> bool {
    static IN_LAMBDA: OnceLock<bool> = OnceLock::new();
    *IN_LAMBDA.get_or_init(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some())
}

/// Writes the metrics (inside Lambda only).
pub fn emit(dimensions: &[(&str, &str)], metrics: &[(&str, Unit, f64)]) {
    if in_lambda() {
        println!("{}", emf_line(dimensions, metrics, now_ms()));
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_valid_emf_with_a_total_per_metric() {
        let line = emf_line(&[("Template", "login_link"), ("Locale", "de")], &[("EmailsSent", Unit::Count, 1.0)], 42);
        let v: Value = serde_json::from_str(&line).unwrap();
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 42);
        assert_eq!(directive["Namespace"], "Passwordless");
        assert_eq!(directive["Dimensions"], json!([["Template", "Locale"], []]));
        assert_eq!(directive["Metrics"], json!([{"Name": "EmailsSent", "Unit": "Count"}]));
        assert_eq!(
            (v["Template"].as_str(), v["Locale"].as_str(), v["EmailsSent"].as_f64()),
            (Some("login_link"), Some("de"), Some(1.0))
        );
        let plain: Value = serde_json::from_str(&emf_line(&[], &[("SignInsStarted", Unit::Count, 1.0)], 1)).unwrap();
        assert_eq!(plain["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
    }
}
