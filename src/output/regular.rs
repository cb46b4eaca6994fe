//! Opening the files mlcost keeps under the output directory (the lock, the journal, the
//! manifests, the table parts), which anyone who can write there may have replaced: a
//! symbolic link is never followed, and a FIFO, socket or device is never read (opening a
//! FIFO blocks until a writer comes, so the run would hang). Each is an error naming the file.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// What a file that is not a plain regular file is, for the error (None: a regular file).
fn odd_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_symlink() {
        return Some("a symbolic link");
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_socket() {
            return Some("a socket");
        }
        if t.is_block_device() || t.is_char_device() {
            return Some("a device");
        }
    }
    Some("a special file")
}

fn not_regular(path: &Path, kind: &'static str, hint: &str) -> Error {
    Error::NotRegular {
        path: path.to_path_buf(),
        kind,
        hint: hint.to_string(),
    }
}

/// Options that never follow a symbolic link in the last component (`O_NOFOLLOW`: the open
/// fails instead) and never block on a FIFO (`O_NONBLOCK`, which changes nothing for a
/// regular file).
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options
}

/// Whether an open failed because the last component is a symbolic link (`O_NOFOLLOW`).
fn is_link_refused(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Opens `path` for reading when it is a regular file; `None` when it does not exist. A
/// symbolic link, FIFO, socket, device or directory is an error carrying `hint`. The type is
/// checked before the open (for the message) and again on the open file, so a file swapped
/// in between is caught too.
pub fn open_existing(path: &Path, hint: &str) -> Result<Option<File>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if let Some(kind) = odd_kind(&meta) {
                return Err(not_regular(path, kind, hint));
            }
        }
        // a file where a directory on the way should be: there is no such file (a commit
        // that must write there reports what is in the way)
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.kind() == std::io::ErrorKind::NotADirectory =>
        {
            return Ok(None)
        }
        Err(e) => return Err(io(e)),
    }
    let file = match no_follow(OpenOptions::new().read(true)).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_link_refused(&e) => return Err(not_regular(path, "a symbolic link", hint)),
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    if let Some(kind) = odd_kind(&meta) {
        return Err(not_regular(path, kind, hint));
    }
    Ok(Some(file))
}

/// `open_existing`, for a file that must exist.
pub fn open(path: &Path, hint: &str) -> Result<File> {
    open_existing(path, hint)?.ok_or_else(|| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })
}

/// The bytes of `path` when it is a regular file; `None` when it does not exist.
pub fn read_existing(path: &Path, hint: &str) -> Result<Option<Vec<u8>>> {
    let Some(mut file) = open_existing(path, hint)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Some(bytes))
}

/// Opens (creating it when missing) a file mlcost writes in place, such as the lock: never
/// through a symbolic link, and only a regular file with no other name (a hard link would
/// let the write land in another file).
pub fn open_for_update(path: &Path, hint: &str) -> Result<File> {
    let io = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if let Some(kind) = odd_kind(&meta) {
            return Err(not_regular(path, kind, hint));
        }
    }
    let file = no_follow(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false),
    )
    .open(path)
    .map_err(|e| match is_link_refused(&e) {
        true => not_regular(path, "a symbolic link", hint),
        false => io(e),
    })?;
    let meta = file.metadata().map_err(io)?;
    if let Some(kind) = odd_kind(&meta) {
        return Err(not_regular(path, kind, hint));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(not_regular(
                path,
                "a second name of another file (a hard link)",
                hint,
            ));
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("victim"), "secret").unwrap();
        std::os::unix::fs::symlink(p("victim"), p("link")).unwrap();
        let fifo = std::ffi::CString::new(p("fifo").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::fs::create_dir(p("dir")).unwrap();
        std::fs::hard_link(p("victim"), p("hard")).unwrap();
        for (name, kind) in [
            ("link", "a symbolic link"),
            ("fifo", "a FIFO (named pipe)"),
            ("dir", "a directory"),
        ] {
            for e in [
                read_existing(&p(name), "h").unwrap_err(),
                open_for_update(&p(name), "h").unwrap_err(),
            ] {
                match e {
                    Error::NotRegular {
                        path,
                        kind: k,
                        hint,
                    } => assert_eq!((path, k, hint.as_str()), (p(name), kind, "h")),
                    other => panic!("{name}: {other:?}"),
                }
            }
        }
        assert!(matches!(
            open_for_update(&p("hard"), "h"),
            Err(Error::NotRegular { .. })
        ));
        assert_eq!(std::fs::read_to_string(p("victim")).unwrap(), "secret");
        assert_eq!(read_existing(&p("absent"), "h").unwrap(), None);
        assert_eq!(
            read_existing(&p("victim"), "h").unwrap().as_deref(),
            Some(&b"secret"[..])
        );
        assert!(open_for_update(&p("new"), "h")
            .unwrap()
            .metadata()
            .unwrap()
            .is_file());
    }
}
