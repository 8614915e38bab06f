//! Reports a failed start-up to the Lambda Runtime API (`/runtime/init/error`), as the Runtime
//! API contract asks, so the service (and the console) shows the reason instead of a bare exit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Best effort: outside Lambda (no `AWS_LAMBDA_RUNTIME_API`) or on any I/O error, nothing happens;
/// the caller still logs and exits.
pub fn report(error_type: &str, message: &str) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else { return };
    let body = format!(r#"{{"errorType":{},"errorMessage":{}}}"#, json_string(error_type), json_string(message));
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\n\
         Lambda-Runtime-Function-Error-Type: {error_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let attempt = || -> std::io::Result<()> {
        let mut stream = TcpStream::connect(&api)?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(request.as_bytes())?;
        let mut sink = [0u8; 256];
        let _ = stream.read(&mut sink)?;
        Ok(())
    };
    let _ = attempt();
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(super::json_string("a\"b\\c\nd"), r#""a\"b\\c\u000ad""#);
    }
}
