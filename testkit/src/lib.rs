//! Helpers shared by the tests of every crate. Nothing here is used at run time.

pub mod logs;
pub mod moto;
pub mod rie;

pub use moto::{Moto, sqs_event};

/// The workspace root, for paths to the venv, tools and fixtures.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testkit lives in the workspace").to_path_buf()
}

/// A unique path under the system temp dir (pid + counter), for files a test hands to a process.
pub fn temp_path(stem: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("{stem}-{}-{n}", std::process::id()))
}
