//! The output lock: one run at a time writes an output directory. The kernel's advisory lock
//! (`flock`) on the directory and on `.mlcost.lock` in it, held for the whole run and released
//! when the process ends, however it ends; no PID guessing.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The lock file that keeps two runs from writing one output directory at once, and says
/// which run holds it. It is never removed: the lock is the kernel's advisory lock on it and on
/// the directory itself, released when the process ends.
pub const LOCK: &str = ".mlcost.lock";

/// Holds the exclusive lock of an output directory while alive.
#[derive(Debug)]
pub struct OutputLock {
    _dir: std::fs::File,
    _file: std::fs::File,
}

impl OutputLock {
    /// Takes the lock of `out` (creating the directory). With `wait`, a run that holds it is
    /// waited for up to that long (a wait too long to represent waits for good); otherwise (or
    /// when the wait ends) it is an error naming the holder. The kernel releases the lock when
    /// this process ends, however it ends.
    ///
    /// The lock is taken on the directory itself and on `.mlcost.lock` in it. The lock file
    /// can be deleted under a running run (a second run would then lock a new file and write
    /// at the same time); the directory cannot be deleted while it holds outputs. The lock file
    /// stays locked as well for mlcost versions that only lock it, and holds the holder's pid
    /// and start time for the message a second run prints. It is opened without following a
    /// symbolic link and must be a regular file, so a planted link cannot make mlcost
    /// overwrite another file.
    pub fn acquire(out: &Path, wait: Option<Duration>) -> Result<OutputLock> {
        std::fs::create_dir_all(out).map_err(|source| Error::Write {
            path: out.to_path_buf(),
            source,
        })?;
        let dir = std::fs::File::open(out).map_err(|source| Error::Io {
            path: out.to_path_buf(),
            source,
        })?;
        let path = out.join(LOCK);
        let mut file = super::regular::open_for_update(
            &path,
            "remove it: mlcost creates its lock file itself (a regular file) when it is missing",
        )?;
        let deadline = wait.map(|w| Instant::now().checked_add(w));
        loop {
            if !try_lock_both((&dir, out), (&file, &path))? {
                break;
            }
            // `Some(None)`: a deadline past what an `Instant` can hold, so wait for good
            if deadline.is_some_and(|d| d.is_none_or(|d| Instant::now() < d)) {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            let holder = read_holder(&mut file);
            return Err(Error::Locked {
                path: out.to_path_buf(),
                holder: if holder.is_empty() {
                    "a run that has just started".into()
                } else {
                    holder
                },
                waited: wait,
            });
        }
        // Who holds it, for the message a second run prints; best effort.
        let me = format!(
            "pid={}\nstarted_at={}\n",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
        );
        let _ = file.set_len(0);
        let _ = file.write_all(me.as_bytes());
        Ok(OutputLock {
            _dir: dir,
            _file: file,
        })
    }
}

/// Tries the lock on the output directory, then on the lock file; `Ok(true)` when another
/// process holds either (then neither is kept).
fn try_lock_both(dir: (&std::fs::File, &Path), file: (&std::fs::File, &Path)) -> Result<bool> {
    for (i, (f, path)) in [dir, file].into_iter().enumerate() {
        let blocked = match f.try_lock() {
            Ok(()) => continue,
            Err(std::fs::TryLockError::WouldBlock) => Ok(true),
            Err(std::fs::TryLockError::Error(source)) => Err(Error::Write {
                path: path.to_path_buf(),
                source,
            }),
        };
        if i == 1 {
            let _ = dir.0.unlock();
        }
        return blocked;
    }
    Ok(false)
}

/// The holder's lines of the lock file, joined (read from the open file: the path may have
/// been replaced since); empty when there are none.
fn read_holder(file: &mut std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut text = String::new();
    let _ = file
        .seek(std::io::SeekFrom::Start(0))
        .and_then(|_| Read::by_ref(file).take(4096).read_to_string(&mut text));
    text.lines()
        .map(|l| crate::escape::shorten(l, 120))
        .collect::<Vec<_>>()
        .join(", ")
}
