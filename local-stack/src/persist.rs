//! `--state DIR`: JSON files written atomically (a temporary file in the same folder, flushed,
//! then renamed over the old one), so a crash mid-write never leaves a half-written state.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::Path;

pub fn load<T: DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn save<T: Serialize + ?Sized>(path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_replace_the_file_whole_and_missing_files_load_as_none() {
        let dir = std::env::temp_dir().join(format!("persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.json");
        assert_eq!(load::<Vec<u32>>(&path).unwrap(), None);
        save(&path, &vec![1, 2]).unwrap();
        save(&path, &vec![3]).unwrap();
        assert_eq!(load::<Vec<u32>>(&path).unwrap(), Some(vec![3]));
        assert!(!path.with_extension("json.tmp").exists());
        std::fs::write(&path, "{broken").unwrap();
        assert!(load::<Vec<u32>>(&path).unwrap_err().to_string().contains("x.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
