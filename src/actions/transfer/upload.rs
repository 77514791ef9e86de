//! `upload`: one local file onto a host. The steps, whatever the backend: skip when the
//! target already has the same file (size, then checksum); check free space; write to a
//! temporary name beside the destination (resuming a partial one where the backend can);
//! verify; rename into place. A shell host does the last two in one exec.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;

use serde_json::{json, Value};

use super::digest::{source_digest, verify_copy, Algo, Hasher, HashingReader};
use super::paths::{parent_of, part_name};
use super::remote::{CopyVerdict, RemoteFiles, RemoteSize};
use super::{protocol_name, task_result, Meter, TransferFailure, TransferJob};
use crate::actions::Verify;
use crate::report::{Status, TaskResult};
use crate::transport::copy::Pump;

pub(super) fn upload(
    job: &TransferJob<'_>,
    remote: &mut dyn RemoteFiles,
    src: &str,
    dest: &str,
) -> Result<TaskResult, TransferFailure> {
    let local = (job.env.resolve_src)(src)
        .ok_or_else(|| TransferFailure::Message(format!("src `{src}`: no such local file")))?;
    let meta = std::fs::metadata(&local)
        .map_err(|e| TransferFailure::Message(format!("src {}: {e}", local.display())))?;
    if !meta.is_file() {
        return Err(TransferFailure::Message(format!(
            "src {} is not a file",
            local.display()
        )));
    }
    let size = meta.len();
    let algo = remote.algo(job.args.verify);
    let proto = protocol_name(job.protocol);

    // A dest that is a folder (or ends with `/`) gets the source's name.
    let mut dest = dest.to_string();
    let src_name = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // One stat serves both the folder check and the idempotence check below, and may
    // bring the free space with it.
    let mut known = None;
    let mut prefetched_free = None;
    if dest.ends_with('/') {
        dest.push_str(&src_name);
    } else {
        match remote.size_and_free(&dest)? {
            (RemoteSize::Dir, _) => dest = format!("{dest}/{src_name}"),
            (other, free) => {
                known = Some(other);
                prefetched_free = free;
            }
        }
    }
    let mut data = json!({
        "src": local.display().to_string(),
        "dest": dest,
        "protocol": proto,
        "size": size,
    });

    // Idempotence: same size, then same checksum.
    let existing = match known {
        Some(k) => k,
        None => {
            let (k, free) = remote.size_and_free(&dest)?;
            prefetched_free = free;
            k
        }
    };
    let mut local_sum: Option<String> = None;
    let same = match (existing, algo) {
        (RemoteSize::Absent | RemoteSize::Dir, _) => false,
        (RemoteSize::Known(n), _) if n != size => false,
        (RemoteSize::Known(_), None) => true,
        (_, Some(algo)) => {
            let here = source_digest(&local, algo, &mut local_sum)?;
            let there = remote.digest(&dest, algo, job.deadline)?;
            there.as_deref() == Some(here.as_str())
        }
        (RemoteSize::Unknown, None) => false,
    };
    if let (Some(algo), Some(sum)) = (algo, &local_sum) {
        data[algo.name()] = Value::from(sum.clone());
    }
    if same {
        if let (Some(mode), false) = (job.args.mode, job.check) {
            remote.set_mode(&dest, mode)?;
        }
        data["sent_bytes"] = Value::from(0);
        return Ok(task_result(
            Status::Ok,
            format!("{dest} is already up to date"),
            data,
        ));
    }
    if job.check {
        return Ok(task_result(
            Status::Changed,
            format!(
                "would send {} ({size} bytes) to {dest} over {proto}",
                local.display()
            ),
            data,
        ));
    }

    // Pre-flight: room for it?
    let atomic = remote.can_rename();
    let tmp = if atomic {
        part_name(&dest)
    } else {
        dest.clone()
    };
    let mut offset = 0;
    if job.args.resume && remote.can_resume() {
        if let RemoteSize::Known(n) = remote.size(&tmp)? {
            if n <= size {
                offset = n;
            }
        }
    }
    if job.args.mkdirs {
        let dir = parent_of(&dest).trim_end_matches(':');
        if !dir.is_empty() {
            remote.mkdirs(dir)?;
        }
    }
    let free = match prefetched_free {
        Some(f) => Some(f),
        None => remote.free_space(&dest),
    };
    if let Some(free) = free {
        let need = size - offset;
        if free < need {
            return Err(TransferFailure::Message(format!(
                "{}: not enough space for {dest}: {need} bytes to send, {free} bytes free",
                job.host
            )));
        }
        data["free_bytes"] = Value::from(free);
    }

    let dest_absent = existing == RemoteSize::Absent;
    let mut state = UploadState {
        job,
        local: &local,
        size,
        tmp: &tmp,
        algo,
        local_sum,
    };
    let sent =
        if job.args.verify != Verify::None && remote.prefers_combined_finish(algo, dest_absent) {
            state.send_then_check_and_rename(remote, &dest, offset)?
        } else {
            let sent = state.send_and_verify(remote, &dest, offset, atomic)?;
            if atomic {
                remote.rename(&tmp, &dest, job.deadline, dest_absent)?;
            }
            sent
        };
    Ok(state.result(&dest, &sent, atomic, data))
}

/// The upload's state, threaded through its steps.
struct UploadState<'a> {
    job: &'a TransferJob<'a>,
    local: &'a Path,
    size: u64,
    /// Where the bytes go: the temporary name, or the destination when the target cannot
    /// rename.
    tmp: &'a str,
    algo: Option<Algo>,
    /// The source's checksum once known.
    local_sum: Option<String>,
}

/// What the sending did.
struct Sent {
    /// Bytes sent, over all attempts.
    bytes: u64,
    /// Where the copy that stayed was resumed (0: from the start).
    resumed_from: u64,
    /// Whether the verification could read the copy's size (SCP to a device cannot).
    size_checked: bool,
}

impl UploadState<'_> {
    fn source_failure(&self, e: std::io::Error) -> TransferFailure {
        TransferFailure::Message(format!("src {}: {e}", self.local.display()))
    }

    /// Send the local file from `offset` to the temporary name. From byte 0 and with a
    /// checksum to compare, the file's checksum is computed on the way when still unknown.
    fn send(&mut self, remote: &mut dyn RemoteFiles, offset: u64) -> Result<u64, TransferFailure> {
        let mut file = File::open(self.local).map_err(|e| self.source_failure(e))?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| self.source_failure(e))?;
        }
        let hasher = match self.algo {
            Some(algo) if offset == 0 && self.local_sum.is_none() => Some(Hasher::new(algo)),
            _ => None,
        };
        let mut reader = HashingReader {
            inner: file,
            hasher,
        };
        let meter = Meter::new(self.job.env.progress, offset, self.size);
        let mut on_bytes = |n: u64| meter.add(n);
        let mut pump = Pump {
            progress: Some(&mut on_bytes),
            bandwidth: self.job.args.bandwidth,
            deadline: self.job.deadline,
        };
        let sent = remote.send(
            &mut reader,
            self.size,
            self.tmp,
            offset,
            self.job.args.mode,
            &mut pump,
        )?;
        meter.finish();
        if let Some(hasher) = reader.hasher.take() {
            self.local_sum = Some(hasher.finish());
        }
        Ok(sent)
    }

    /// Send, then let the target check the copy and rename it in one step (which removes
    /// a wrong copy itself). A resumed copy that fails is sent again from the start once:
    /// the partial file came from something else.
    fn send_then_check_and_rename(
        &mut self,
        remote: &mut dyn RemoteFiles,
        dest: &str,
        offset: u64,
    ) -> Result<Sent, TransferFailure> {
        let mut bytes = self.send(remote, offset)?;
        let expect = match self.algo {
            Some(algo) => Some(source_digest(self.local, algo, &mut self.local_sum)?),
            None => None,
        };
        let (tmp, size, algo, deadline) = (self.tmp, self.size, self.algo, self.job.deadline);
        let check_and_rename = |remote: &mut dyn RemoteFiles| {
            remote.verify_and_rename(tmp, dest, size, expect.as_deref(), algo, deadline)
        };
        let mut resumed_from = offset;
        let mut verdict = check_and_rename(remote)?;
        if matches!(verdict, CopyVerdict::Bad(_)) && offset > 0 {
            bytes += self.send(remote, 0)?;
            resumed_from = 0;
            verdict = check_and_rename(remote)?;
        }
        if let CopyVerdict::Bad(why) = verdict {
            return Err(TransferFailure::Message(format!(
                "{}: verification of {dest} failed: {why}; the bad copy was removed",
                self.job.host
            )));
        }
        Ok(Sent {
            bytes,
            resumed_from,
            size_checked: true,
        })
    }

    /// Send and verify the copy before it takes the destination's name, removing a wrong
    /// one. A resumed copy that fails is sent again from the start once.
    fn send_and_verify(
        &mut self,
        remote: &mut dyn RemoteFiles,
        dest: &str,
        mut offset: u64,
        atomic: bool,
    ) -> Result<Sent, TransferFailure> {
        let mut bytes = 0;
        let mut resumed_from = offset;
        loop {
            bytes += self.send(remote, offset)?;
            let verdict = verify_copy(
                self.job,
                remote,
                self.local,
                self.tmp,
                self.size,
                self.algo,
                &mut self.local_sum,
            )?;
            let why = match verdict {
                CopyVerdict::Sound { size_checked } => {
                    return Ok(Sent {
                        bytes,
                        resumed_from,
                        size_checked,
                    })
                }
                CopyVerdict::Bad(why) => why,
            };
            let removed = remote.remove(self.tmp);
            if offset > 0 {
                offset = 0;
                resumed_from = 0;
                continue;
            }
            let what_became_of_it = match (atomic, removed) {
                (true, Ok(())) => "the bad copy was removed".to_string(),
                (true, Err(e)) => format!(
                    "the bad copy {} could not be removed ({}); remove it",
                    self.tmp,
                    e.reason()
                ),
                (false, Ok(())) => format!("the bad copy at {dest} was deleted from the device"),
                (false, Err(e)) => format!(
                    "{dest} on the device is bad and was not deleted ({}); remove or replace it",
                    e.reason()
                ),
            };
            return Err(TransferFailure::Message(format!(
                "{}: verification of {dest} failed: {why}; {what_became_of_it}",
                self.job.host
            )));
        }
    }

    /// The result of a finished upload.
    fn result(&self, dest: &str, sent: &Sent, atomic: bool, mut data: Value) -> TaskResult {
        let proto = protocol_name(self.job.protocol);
        data["sent_bytes"] = Value::from(sent.bytes);
        if sent.resumed_from > 0 {
            data["resumed_from"] = Value::from(sent.resumed_from);
        }
        if let (Some(algo), Some(sum)) = (self.algo, &self.local_sum) {
            data[algo.name()] = Value::from(sum.clone());
        }
        data["verified"] = Value::from(match self.algo {
            Some(algo) => algo.name(),
            None if self.job.args.verify == Verify::None => "none",
            None if sent.size_checked => "size",
            // SCP to a device without a checksum command: nothing could be checked.
            None => "none (the target can tell neither size nor checksum)",
        });
        let mut msg = format!(
            "sent {} to {dest} ({} bytes over {proto}",
            self.local.display(),
            self.size
        );
        if sent.resumed_from > 0 {
            msg.push_str(&format!(", resumed at byte {}", sent.resumed_from));
        }
        msg.push(')');
        if !atomic {
            msg.push_str(
                "; the target cannot rename, so the file was written in place and verified",
            );
            data["atomic"] = Value::from(false);
        }
        task_result(Status::Changed, msg, data)
    }
}
