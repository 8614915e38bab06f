//! Captures what `tracing` writes, as the JSON lines the Lambda binaries print, so a test can
//! search the logs for secrets.

use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Installs, for the current thread until the guard drops, the production JSON subscriber's
    /// filter at its most verbose (TRACE): what a function logs when someone turns logging all
    /// the way up. No timestamps, so a code cannot match a clock reading by chance.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .without_time()
            .with_env_filter(lambda_support::logging::filter(tracing_subscriber::filter::LevelFilter::TRACE))
            .with_current_span(true)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
