//! Runs a built Lambda binary through the Lambda Runtime API (`tools/lambda_rie.py`), exactly as
//! the Lambda service would: it polls for events, posts responses or errors.

use serde_json::Value;
use std::process::Command;

/// What the harness saw: one `{ok, body}` per event, the init error if any, and the process's
/// output (its logs).
#[derive(Debug)]
pub struct Report {
    pub raw: Value,
}

impl Report {
    pub fn results(&self) -> &[Value] {
        self.raw["results"].as_array().map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn ok(&self, i: usize) -> bool {
        self.results()[i]["ok"].as_bool().expect("ok flag")
    }

    pub fn body(&self, i: usize) -> &Value {
        &self.results()[i]["body"]
    }

    pub fn output(&self) -> &str {
        self.raw["output_tail"].as_str().unwrap_or("")
    }
}

pub fn run(binary: &str, events: &[Value], env: &[(String, String)], timeout_secs: u32) -> Report {
    let events_file = crate::temp_path("rie-events");
    std::fs::write(&events_file, serde_json::to_vec(events).unwrap()).unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(crate::workspace_root().join("tools/lambda_rie.py"))
        .arg("--events")
        .arg(&events_file)
        .arg("--timeout")
        .arg(timeout_secs.to_string());
    for (k, v) in env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    let out = cmd.arg("--").arg(binary).output().expect("python3 runs the Runtime API harness");
    let _ = std::fs::remove_file(&events_file);
    assert!(out.status.success(), "harness failed: {}", String::from_utf8_lossy(&out.stderr));
    let raw: Value = serde_json::from_slice(&out.stdout).expect("harness prints one JSON object");
    Report { raw }
}

/// [`run`], keeping the function's whole output (the harness keeps only its tail): for tests that
/// read every log line (a run at TRACE). Returns the report and the output.
pub fn run_logged(binary: &str, events: &[Value], env: &[(String, String)], timeout_secs: u32) -> (Report, String) {
    let log = crate::temp_path("rie-log");
    let wrapper = crate::temp_path("rie-sh");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec '{binary}' >'{}' 2>&1\n", log.display())).unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let report = run(wrapper.to_str().unwrap(), events, env, timeout_secs);
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = (std::fs::remove_file(&log), std::fs::remove_file(&wrapper));
    (report, output)
}
