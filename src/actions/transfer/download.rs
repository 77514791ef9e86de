//! `download`: one file from a host into a local folder. The file is fetched under a
//! temporary name beside its destination (resumed where the backend can), checked against
//! the host's size and checksum, and only then renamed into place; with `root`, it can
//! never land outside that folder (`..`, absolute paths and symlinks are refused).

use std::io::{Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};

use super::digest::local_digest;
use super::paths::{base_name, safe_join, PART_SUFFIX};
use super::remote::{RemoteFiles, RemoteSize};
use super::{protocol_name, task_result, Meter, TransferFailure, TransferJob};
use crate::actions::Verify;
use crate::report::{Status, TaskResult};
use crate::transport::copy::Pump;

/// Where a download of the file `name` lands: `dest`, or `dest/name` when `dest` is a
/// folder (or ends with `/`). With `root`, `dest` is inside `root` and may not leave it.
fn local_path(name: &str, dest: &str, root: Option<&str>) -> Result<PathBuf, String> {
    // With a root, `dest` is relative to it, not to the current folder.
    let dest_path = match root {
        Some(root) => Path::new(root).join(dest),
        None => PathBuf::from(dest),
    };
    let dest_is_dir = dest.ends_with('/') || dest == "." || dest_path.is_dir();
    Ok(match root {
        Some(root) => {
            let root_path = Path::new(root);
            if root_path.components().any(|c| c == Component::ParentDir) {
                return Err(format!(
                    "refused: the download folder `{root}` contains `..`"
                ));
            }
            let rel = if dest_is_dir {
                format!("{}/{name}", dest.trim_end_matches('/'))
            } else {
                dest.to_string()
            };
            safe_join(root_path, &rel).map_err(|e| format!("refused: {e}"))?
        }
        None if dest_is_dir => Path::new(dest).join(name),
        None => PathBuf::from(dest),
    })
}

pub(super) fn download(
    job: &TransferJob<'_>,
    remote: &mut dyn RemoteFiles,
    src: &str,
    dest: &str,
    root: Option<&str>,
) -> Result<TaskResult, TransferFailure> {
    let name = base_name(src).to_string();
    if name.is_empty() || name == ".." || name == "." {
        return Err(TransferFailure::Message(format!(
            "src `{src}` does not name a file"
        )));
    }
    let local = local_path(&name, dest, root).map_err(TransferFailure::Message)?;
    let proto = protocol_name(job.protocol);
    let algo = remote.algo(job.args.verify);
    let remote_size = match remote.size(src)? {
        RemoteSize::Absent => {
            return Err(TransferFailure::Message(format!(
                "{}: {src}: no such file on the host",
                job.host
            )))
        }
        RemoteSize::Dir => {
            return Err(TransferFailure::Message(format!(
                "{}: {src} is a folder; download takes one file",
                job.host
            )))
        }
        RemoteSize::Known(n) => Some(n),
        RemoteSize::Unknown => None,
    };
    let mut data = json!({
        "src": src,
        "dest": local.display().to_string(),
        "protocol": proto,
    });
    if let Some(n) = remote_size {
        data["size"] = Value::from(n);
    }
    // Over FTP a checksum is a read-back: compare by size there unless asked otherwise.
    let remote_sum = match algo {
        Some(algo) if !remote.digest_reads_back() => remote.digest(src, algo, job.deadline)?,
        _ => None,
    };
    if let (Some(algo), Some(sum)) = (algo, &remote_sum) {
        data[algo.name()] = Value::from(sum.clone());
    }
    if remote_size.is_none() && algo.is_some() && remote_sum.is_none() {
        // A device over SCP: its checksum command is the only way to see the file.
        return Err(TransferFailure::Message(format!(
            "{}: {src}: no such file on the device (its checksum command found none)",
            job.host
        )));
    }
    // Up to date already?
    if let Ok(m) = std::fs::metadata(&local) {
        let same_size = remote_size.is_none_or(|n| n == m.len());
        let same = same_size
            && match (algo, &remote_sum) {
                (Some(algo), Some(sum)) => {
                    local_digest(&local, algo).ok().as_deref() == Some(sum.as_str())
                }
                _ => remote_size.is_some(),
            };
        if same {
            return Ok(task_result(
                Status::Ok,
                format!("{} is already up to date", local.display()),
                data,
            ));
        }
    }
    if job.check {
        return Ok(task_result(
            Status::Changed,
            format!("would fetch {src} into {}", local.display()),
            data,
        ));
    }
    let parent = local.parent().map(Path::to_path_buf).unwrap_or_default();
    if !parent.as_os_str().is_empty() {
        std::fs::create_dir_all(&parent).map_err(|e| {
            TransferFailure::Message(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    let part = parent.join(format!(
        ".{}{PART_SUFFIX}",
        local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    if let Ok(m) = std::fs::symlink_metadata(&part) {
        if m.file_type().is_symlink() {
            return Err(TransferFailure::Message(format!(
                "refused: {} is a symbolic link",
                part.display()
            )));
        }
    }
    let mut offset = 0;
    if job.args.resume && remote.can_resume() {
        if let (Ok(m), Some(n)) = (std::fs::metadata(&part), remote_size) {
            if m.len() <= n {
                offset = m.len();
            }
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(offset == 0)
        .open(&part)
        .map_err(|e| TransferFailure::Message(format!("cannot write {}: {e}", part.display())))?;
    if offset > 0 {
        file.seek(SeekFrom::Start(offset)).map_err(|e| {
            TransferFailure::Message(format!("cannot write {}: {e}", part.display()))
        })?;
    }
    let meter = Meter::new(job.env.progress, offset, remote_size.unwrap_or(0));
    let mut on_bytes = |n: u64| meter.add(n);
    let mut pump = Pump {
        progress: Some(&mut on_bytes),
        bandwidth: job.args.bandwidth,
        deadline: job.deadline,
    };
    // The pump's buffer is large already: write straight to the file.
    let limit = remote_size.map(|n| n.saturating_sub(offset));
    let got = match remote.fetch(src, &mut file, offset, limit, &mut pump) {
        Ok(n) => n,
        Err(e) => {
            // A partial file is only worth keeping for a resume.
            drop(file);
            if !(job.args.resume && remote.can_resume()) {
                let _ = std::fs::remove_file(&part);
            }
            return Err(e);
        }
    };
    meter.finish();
    let _ = file.sync_all();
    drop(file);
    // Verify the local copy before it takes the final name.
    let total = offset + got;
    if let Some(n) = remote_size {
        if total != n && job.args.verify != Verify::None {
            let _ = std::fs::remove_file(&part);
            return Err(TransferFailure::Message(format!(
                "{}: {src}: received {total} bytes, the host says {n}",
                job.host
            )));
        }
    }
    if let (Some(algo), Some(there)) = (algo, &remote_sum) {
        let here = local_digest(&part, algo)
            .map_err(|e| TransferFailure::Message(format!("{}: {e}", part.display())))?;
        if &here != there {
            let _ = std::fs::remove_file(&part);
            return Err(TransferFailure::Message(format!(
                "{}: verification of {src} failed: {} here is {here}, the host says {there}; the bad copy was removed",
                job.host,
                algo.name()
            )));
        }
    }
    if let Some(mode) = job.args.mode {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&part, std::fs::Permissions::from_mode(mode));
    }
    std::fs::rename(&part, &local).map_err(|e| {
        TransferFailure::Message(format!("cannot move {} into place: {e}", part.display()))
    })?;
    data["received_bytes"] = Value::from(got);
    if offset > 0 {
        data["resumed_from"] = Value::from(offset);
    }
    Ok(task_result(
        Status::Changed,
        format!(
            "fetched {src} into {} ({total} bytes over {proto})",
            local.display()
        ),
        data,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_inside_root_takes_the_file_name() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().to_str().unwrap();
        std::fs::create_dir(d.path().join("configs")).unwrap();
        assert_eq!(
            local_path("r1.cfg", "configs", Some(root)).unwrap(),
            d.path().join("configs/r1.cfg")
        );
        // `src` is a folder where the tests run, not inside root: it names the file.
        assert_eq!(
            local_path("r1.cfg", "src", Some(root)).unwrap(),
            d.path().join("src")
        );
        assert_eq!(
            local_path("r1.cfg", "./", Some(root)).unwrap(),
            d.path().join("r1.cfg")
        );
        assert!(local_path("r1.cfg", "../x", Some(root))
            .unwrap_err()
            .starts_with("refused: "));
    }
}
