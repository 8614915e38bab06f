//! `--state DIR`: what the stack keeps across restarts, written so that the stack itself can never
//! leave a file half-written or lose a change: one writer per file at a time (the snapshot is taken
//! under the lock, so the last write holds the last change), a temporary file of its own, `fsync`,
//! the previous version kept beside it (`NAME.prev`), an atomic rename, then the folder synced.
//! Files are created `0600` and the folder `0700`: the inbox holds sign-in codes.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Creates the state folder (and its parents) and makes it private to this user.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Takes `DIR/lock` for this process (released when the returned file is dropped or the process
/// ends): two stacks on one `--state` folder would overwrite each other's users.
pub fn lock_dir(dir: &Path) -> std::io::Result<std::fs::File> {
    let file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(dir.join("lock"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            format!("another local-stack is using {} (--state): stop it, or choose another folder", dir.display()),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// A file opened for writing, readable and writable by this user only.
pub fn private_file(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).mode(0o600);
    if append {
        options.append(true);
    } else {
        options.truncate(true);
    }
    options.open(path)
}

/// The error for a state file that does not parse: its path, why, and what to do.
pub fn unreadable(path: &Path, why: impl std::fmt::Display) -> std::io::Error {
    let prev = prev_path(path);
    let advice = if prev.exists() {
        format!("the previous version is {}: move it over the file to restore it, or", prev.display())
    } else {
        "move the file away (or".into()
    };
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("{} is not valid: {why}; {advice} delete it to start without it)", path.display()),
    )
}

fn prev_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".prev");
    path.with_file_name(name)
}

/// One JSON document in one file, written by one writer at a time.
#[derive(Debug)]
pub struct JsonFile {
    path: PathBuf,
    writer: Mutex<()>,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl JsonFile {
    pub fn new(path: PathBuf) -> Self {
        JsonFile { path, writer: Mutex::new(()) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The document, `None` when there is no file yet; a file that does not parse is an error that
    /// names it and says what to do.
    pub fn load<T: DeserializeOwned>(&self) -> std::io::Result<Option<T>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| unreadable(&self.path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes what `snapshot` returns, taken while this file's writer lock is held.
    pub fn save_with<T: Serialize>(&self, snapshot: impl FnOnce() -> T) -> std::io::Result<()> {
        let _one_writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = serde_json::to_vec_pretty(&snapshot()).map_err(std::io::Error::other)?;
        self.replace(&bytes)
    }

    fn replace(&self, bytes: &[u8]) -> std::io::Result<()> {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
        let tmp = self.path.with_file_name(tmp_name);
        let written = (|| {
            let mut file = private_file(&tmp, false)?;
            file.write_all(bytes)?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        // Keep the version being replaced beside it (a hard link: the replace stays one rename).
        let prev = prev_path(&self.path);
        let _ = std::fs::remove_file(&prev);
        match std::fs::hard_link(&self.path, &prev) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, "previous state version not kept"),
        }
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(&self.path)
    }
}

/// Makes a rename in `path`'s folder durable.
pub fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("persist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        private_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn saves_replace_the_file_whole_keep_the_previous_one_and_are_private() {
        let dir = dir("save");
        let file = JsonFile::new(dir.join("x.json"));
        assert_eq!(file.load::<Vec<u32>>().unwrap(), None);
        file.save_with(|| vec![1, 2]).unwrap();
        file.save_with(|| vec![3]).unwrap();
        assert_eq!(file.load::<Vec<u32>>().unwrap(), Some(vec![3]));
        assert_eq!(std::fs::read_to_string(dir.join("x.json.prev")).unwrap().replace(char::is_whitespace, ""), "[1,2]");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&dir.join("x.json")), mode(&dir)), (0o600, 0o700));
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_file_is_an_error_naming_it_and_the_way_back() {
        let dir = dir("broken");
        let file = JsonFile::new(dir.join("x.json"));
        file.save_with(|| vec![1]).unwrap();
        file.save_with(|| vec![2]).unwrap();
        std::fs::write(dir.join("x.json"), "{broken").unwrap();
        let err = file.load::<Vec<u32>>().unwrap_err().to_string();
        assert!(err.contains("x.json is not valid") && err.contains("x.json.prev"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_writers_never_interleave_and_the_last_snapshot_wins() {
        let dir = dir("race");
        let file = std::sync::Arc::new(JsonFile::new(dir.join("x.json")));
        let counter = std::sync::Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (file, counter) = (file.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        counter.fetch_add(1, Ordering::SeqCst);
                        file.save_with(|| counter.load(Ordering::SeqCst)).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(file.load::<u64>().unwrap(), Some(320));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
