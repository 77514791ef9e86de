//! The backup store: a git repository with one file per device, written through libgit2's
//! object database (git2), never through the working tree.
//!
//! Why this is crash-safe: a commit writes the blobs, then the trees, then the commit object,
//! and only then moves the branch ref (libgit2 writes `refs/heads/main.lock` and renames it
//! over the ref, an atomic step). A process killed at any point before the rename leaves
//! unreferenced objects (`git fsck` calls them dangling, which is not an error) and the old
//! branch tip; killed after it, the new commit is complete. The working tree and index are
//! refreshed from HEAD afterwards, and again on the next open, so a kill between the ref
//! update and the checkout only leaves a working tree that the next run repairs. What the
//! store holds is always read from HEAD's tree, never from the working tree.
//!
//! Concurrent netorch processes on one store are serialised by an advisory lock on
//! `.git/netorch.lock` held while committing and pushing; under it, any git `*.lock` file left
//! by a killed process is stale and removed.
//!
//! Pushing ([`Store::push_if_needed`], transports in [`super::remote`]): fetch the remote's
//! branch; if it moved on (other writers, e.g. shards sharing one remote), replay each local
//! commit it lacks onto its tip as the files that commit wrote, in the object database, then
//! move the local branch from the old tip to the new one in one compare-and-swap, and push
//! without force; again, a bounded number of times, while the remote keeps moving. A kill at
//! any point leaves the old or the rebased branch, and the push-pending marker for the next
//! run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, ObjectType, Oid, Repository, RepositoryInitOptions, Signature, Tree};

use super::remote::{PushOptions, Pushed, Remote};

/// The branch a new store starts on.
pub const BRANCH: &str = "main";

/// Default commit author.
pub const DEFAULT_AUTHOR_NAME: &str = "netorch";
pub const DEFAULT_AUTHOR_EMAIL: &str = "netorch@localhost";

/// Written in a new store's `.git` and removed once it has met its remote (seeded from it
/// or pushed to it): only such a store may put its history on top of a remote's that it
/// shares nothing with (a fresh shard's first push). Any other store refuses that.
const UNPUBLISHED: &str = "netorch-unpublished";

/// Written in `.git` before a push and removed after it succeeded: a push that failed is
/// tried again by the next run, even when that run changes nothing.
const PUSH_PENDING: &str = "netorch-push-pending";

/// How long to wait for another netorch process to finish committing to the same store.
const LOCK_WAIT_SECS: u64 = 120;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup store {}: {op}: {source}", store.display())]
    Git {
        store: PathBuf,
        op: String,
        #[source]
        source: git2::Error,
    },
    #[error("backup store {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a backup store (no git repository there); run a backup into it first", .0.display())]
    NotAStore(PathBuf),
    #[error("backup store {}: no backup of `{name}`{}", store.display(), if known.is_empty() { String::new() } else { format!(" (known: {known})") })]
    NoSuchDevice {
        store: PathBuf,
        name: String,
        known: String,
    },
    #[error("backup store {}: `{rev}`: {reason}", store.display())]
    BadRevision {
        store: PathBuf,
        rev: String,
        reason: String,
    },
    #[error("backup store {}: push to {url}: {reason}", store.display())]
    Push {
        store: PathBuf,
        url: String,
        reason: String,
    },
    #[error("backup store {}: push to {url}: the remote's `{branch}` shares no history with this store (another store's remote, or a branch rewritten by hand); nothing was pushed or merged: push to an empty repository, or back up into a new store folder (a new store starts from the remote's history)", store.display())]
    UnrelatedHistory {
        store: PathBuf,
        url: String,
        branch: String,
    },
    #[error("backup store {}: push to {url}: the remote's branch moved again after each of {attempts} fetch-and-rebase attempts (other writers pushing at the same time); the commits are kept and the next run pushes them", store.display())]
    PushRace {
        store: PathBuf,
        url: String,
        attempts: u32,
    },
    #[error("backup store {}: another netorch process has held the store's lock for {LOCK_WAIT_SECS} s", .0.display())]
    Locked(PathBuf),
    #[error("backup store {}: the working tree was not refreshed at {}: {reason} (the backups are committed; remove what is in the way)", store.display(), path.display())]
    UnsafeWorktree {
        store: PathBuf,
        path: PathBuf,
        reason: String,
    },
}

/// The commit author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub email: String,
}

impl Default for Author {
    fn default() -> Self {
        Author {
            name: DEFAULT_AUTHOR_NAME.into(),
            email: DEFAULT_AUTHOR_EMAIL.into(),
        }
    }
}

impl Author {
    /// `Name <email>` or just a name.
    pub fn parse(s: &str) -> Author {
        let s = s.trim();
        match (s.find('<'), s.rfind('>')) {
            (Some(a), Some(b)) if a < b => Author {
                name: s[..a].trim().to_string(),
                email: s[a + 1..b].trim().to_string(),
            },
            _ => Author {
                name: s.to_string(),
                email: DEFAULT_AUTHOR_EMAIL.into(),
            },
        }
    }
}

/// One commit that touched a device's file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
    pub commit: String,
    /// Seconds since the epoch.
    pub time: i64,
    pub author: String,
    pub summary: String,
    pub added: usize,
    pub removed: usize,
    /// The shard that wrote the commit (its `Shard:` line), for sharded runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
}

/// What a push did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PushReport {
    /// The remote, credentials masked.
    pub url: String,
    /// Fetch-and-push rounds it took (more than 1: other writers pushed meanwhile).
    pub attempts: u32,
    /// Local commits replayed onto what other writers had pushed.
    pub rebased: usize,
    /// Files both this store and another writer changed, and which backup was kept.
    pub same_file: Vec<String>,
    /// The branch's tip after the push (empty when there was nothing to push).
    pub head: String,
}

/// A file in a tree: its blob and git file mode.
type BlobEntry = (Oid, i32);

/// The trailer naming the shard that made a commit.
pub const SHARD_TRAILER: &str = "Shard: ";

/// The shard named in a commit message, if any.
pub fn shard_of(message: &str) -> Option<String> {
    message
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(SHARD_TRAILER))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The wait before the next push attempt: growing, with jitter so that writers that
/// collided do not collide again in step.
fn backoff(attempt: u32) -> std::time::Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = u64::from((nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 200);
    std::time::Duration::from_millis(100 * u64::from(attempt.min(6)) + jitter)
}

/// A commit's files: path → blob.
type PathIndex = HashMap<String, Oid>;

pub struct Store {
    repo: Repository,
    root: PathBuf,
    /// HEAD's tree as path → blob, made once per commit: reading one device's stored config
    /// used to parse the root tree (an entry per device) each time, quadratic in devices
    /// (an unchanged 10,000-device backup took 43 s instead of 13).
    head_index: Mutex<Option<(Oid, Arc<PathIndex>)>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.root).finish()
    }
}

impl Store {
    /// Open the store, creating the folder and the repository on first use.
    /// Whether `root` already holds a store.
    pub fn exists(root: &Path) -> bool {
        root.join(".git").exists()
    }

    pub fn open_or_init(root: &Path) -> Result<Store, BackupError> {
        if Store::exists(root) {
            return Store::open(root);
        }
        let created = !root.exists();
        std::fs::create_dir_all(root).map_err(|e| BackupError::Io {
            path: root.to_path_buf(),
            source: e,
        })?;
        if created {
            // Only its owner reads a new store: configs name every address, user and
            // (unless masked) secret of the network.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700)).map_err(
                |e| BackupError::Io {
                    path: root.to_path_buf(),
                    source: e,
                },
            )?;
        }
        // Create the repository beside, then move its `.git` into place in one rename: a
        // process killed during creation leaves no half-made `.git` behind.
        let staging = root.join(".netorch-init");
        let io = |path: &Path, e: std::io::Error| BackupError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io(&staging, e))?;
        }
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head(BRANCH).mkdir(true);
        drop(Repository::init_opts(&staging, &opts).map_err(|e| git(root, "create", e))?);
        let marker = staging.join(".git").join(UNPUBLISHED);
        std::fs::write(&marker, b"").map_err(|e| io(&marker, e))?;
        std::fs::rename(staging.join(".git"), root.join(".git"))
            .map_err(|e| io(&root.join(".git"), e))?;
        let _ = std::fs::remove_dir_all(&staging);
        Store::open(root)
    }

    /// Open an existing store (reading commands).
    pub fn open(root: &Path) -> Result<Store, BackupError> {
        if !root.join(".git").exists() {
            return Err(BackupError::NotAStore(root.to_path_buf()));
        }
        let repo = Repository::open(root).map_err(|e| git(root, "open", e))?;
        Ok(Store {
            repo,
            root: root.to_path_buf(),
            head_index: Mutex::new(None),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn head_tree(&self) -> Result<Option<Tree<'_>>, BackupError> {
        match self.repo.head() {
            Ok(h) => {
                let t = h
                    .peel_to_tree()
                    .map_err(|e| git(&self.root, "read HEAD", e))?;
                Ok(Some(t))
            }
            // A new store: no commit yet.
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(git(&self.root, "read HEAD", e)),
        }
    }

    /// The stored version of `path` at HEAD (`None` when there is none).
    pub fn read(&self, path: &str) -> Result<Option<String>, BackupError> {
        let Some(index) = self.head_index()? else {
            return Ok(None);
        };
        let key: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let Some(id) = index.get(&key.join("/")) else {
            return Ok(None);
        };
        let blob = self
            .repo
            .find_blob(*id)
            .map_err(|e| git(&self.root, &format!("read {path}"), e))?;
        Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
    }

    /// Every file of `tree` (its path from the root) and its blob.
    fn blobs(&self, tree: &Tree<'_>) -> Result<Vec<(String, Oid)>, BackupError> {
        let mut files = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(ObjectType::Blob) {
                if let Some(n) = e.name() {
                    files.push((format!("{dir}{n}"), e.id()));
                }
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(|e| git(&self.root, "list files", e))?;
        Ok(files)
    }

    /// HEAD's files and their blobs (`None` in a store with no commit yet), made again only
    /// when HEAD's tree is another one.
    fn head_index(&self) -> Result<Option<Arc<PathIndex>>, BackupError> {
        // Keyed by HEAD's commit id, read from the reference alone: the commit object (whose
        // message lists every changed device) and the tree (an entry per device) are
        // parsed only when HEAD moved; libgit2 caches neither at that size.
        let commit_id = match self.repo.head() {
            Ok(h) => match h.target() {
                Some(id) => id,
                None => h
                    .peel_to_commit()
                    .map_err(|e| git(&self.root, "read HEAD", e))?
                    .id(),
            },
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                return Ok(None)
            }
            Err(e) => return Err(git(&self.root, "read HEAD", e)),
        };
        let mut cached = match self.head_index.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some((id, index)) = &*cached {
            if *id == commit_id {
                return Ok(Some(Arc::clone(index)));
            }
        }
        let tree = self
            .repo
            .find_commit(commit_id)
            .and_then(|c| c.tree())
            .map_err(|e| git(&self.root, "read HEAD", e))?;
        let index: PathIndex = self.blobs(&tree)?.into_iter().collect();
        let index = Arc::new(index);
        *cached = Some((commit_id, Arc::clone(&index)));
        Ok(Some(index))
    }

    fn blob_text(&self, tree: &Tree<'_>, path: &str) -> Result<Option<String>, BackupError> {
        let entry = match tree.get_path(Path::new(path)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(git(&self.root, &format!("read {path}"), e)),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(|e| git(&self.root, &format!("read {path}"), e))?;
        Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
    }

    /// Every file at HEAD (paths), for "did you mean" and listings.
    pub fn files(&self) -> Result<Vec<String>, BackupError> {
        let Some(tree) = self.head_tree()? else {
            return Ok(Vec::new());
        };
        Ok(self.blobs(&tree)?.into_iter().map(|(p, _)| p).collect())
    }

    /// Write `files` (path, content) as one commit on top of HEAD; `None` when nothing
    /// differs from HEAD (no empty commits). The ref moves last, atomically.
    pub fn commit(
        &self,
        files: &[(String, String)],
        message: &str,
        author: &Author,
    ) -> Result<Option<String>, BackupError> {
        let _lock = self.lock()?;
        let parent = match self.repo.head() {
            Ok(h) => Some(
                h.peel_to_commit()
                    .map_err(|e| git(&self.root, "read HEAD", e))?,
            ),
            Err(_) => None,
        };
        let base = match &parent {
            Some(c) => c.tree().map_err(|e| git(&self.root, "read HEAD", e))?,
            None => {
                let oid = self
                    .repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(|e| git(&self.root, "empty tree", e))?;
                self.repo
                    .find_tree(oid)
                    .map_err(|e| git(&self.root, "empty tree", e))?
            }
        };
        let t0 = std::time::Instant::now();
        let mut update = TreeUpdateBuilder::new();
        let mut any = false;
        for (path, text) in files {
            let oid = self
                .repo
                .blob(text.as_bytes())
                .map_err(|e| git(&self.root, &format!("write {path}"), e))?;
            let same = base
                .get_path(Path::new(path))
                .map(|e| e.id() == oid)
                .unwrap_or(false);
            if !same {
                update.upsert(path.as_str(), oid, FileMode::Blob);
                any = true;
            }
        }
        if !any {
            return Ok(None);
        }
        let t_blobs = t0.elapsed();
        let tree_id = update
            .create_updated(&self.repo, &base)
            .map_err(|e| git(&self.root, "write tree", e))?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(|e| git(&self.root, "write tree", e))?;
        let sig = Signature::now(&author.name, &author.email)
            .map_err(|e| git(&self.root, "author", e))?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = self
            .repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .map_err(|e| git(&self.root, "commit", e))?;
        let t_commit = t0.elapsed();
        // The commit is complete whatever happens to the working tree, which is only for
        // browsing: a refusal is reported, not turned into a failed backup.
        if let Err(e) = self.sync_worktree() {
            tracing::warn!("{e}");
        }
        tracing::debug!(
            "store {}: {} file(s): blobs {:?}, trees+commit {:?}, working tree {:?}",
            self.root.display(),
            files.len(),
            t_blobs,
            t_commit - t_blobs,
            t0.elapsed() - t_commit
        );
        Ok(Some(id.to_string()))
    }

    /// At the start of a run: under the store's lock (which clears what a process killed
    /// mid-write left, `.tmpXXXXXX` files included), make the working tree match HEAD.
    /// Without the lock, a run that then had nothing to commit never took it, and the
    /// half-written files of a killed run stayed in the working tree.
    pub fn repair_worktree(&self) -> Result<(), BackupError> {
        let _lock = self.lock()?;
        self.sync_worktree()
    }

    /// Make the working tree and index match HEAD (for people who browse the folder).
    ///
    /// Written file by file rather than by a git checkout, so that nothing in the working
    /// tree can redirect a write: a folder on the way that is a symbolic link is refused
    /// (it would put a device's config anywhere the link points), and a file is replaced
    /// by an atomic rename, which replaces a symbolic link instead of following it.
    /// Folders are created 0700 and files 0600: configs are sensitive even masked.
    fn sync_worktree(&self) -> Result<(), BackupError> {
        let Some(tree) = self.head_tree()? else {
            return Ok(());
        };
        let files = self.blobs(&tree)?;
        let mut first_refusal = None;
        for (path, id) in files {
            let blob = self
                .repo
                .find_blob(id)
                .map_err(|e| git(&self.root, &format!("read {path}"), e))?;
            if let Err(e) = self.write_worktree_file(&path, blob.content()) {
                first_refusal.get_or_insert(e);
            }
        }
        let mut index = self
            .repo
            .index()
            .map_err(|e| git(&self.root, "update the index", e))?;
        index
            .read_tree(&tree)
            .and_then(|()| index.write())
            .map_err(|e| git(&self.root, "update the index", e))?;
        match first_refusal {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Write one working-tree file (`rel` uses `/`, as git does) without following links.
    fn write_worktree_file(&self, rel: &str, content: &[u8]) -> Result<(), BackupError> {
        use std::os::unix::fs::DirBuilderExt;
        let refuse = |path: &Path, reason: &str| BackupError::UnsafeWorktree {
            store: self.root.clone(),
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let io = |path: &Path, e: std::io::Error| BackupError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let mut parts: Vec<&str> = rel.split('/').collect();
        let Some(name) = parts.pop() else {
            return Ok(());
        };
        let mut dir = self.root.clone();
        for part in parts {
            dir.push(part);
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(refuse(&dir, "a symbolic link is in the way of a folder"))
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(refuse(&dir, "a file is in the way of a folder")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
                    .mode(0o700)
                    .create(&dir)
                    .map_err(|e| io(&dir, e))?,
                Err(e) => return Err(io(&dir, e)),
            }
        }
        let target = dir.join(name);
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() => return Err(refuse(&target, "a folder is in the way of a file")),
            // Unchanged files are left alone (their modification time stays meaningful).
            Ok(m) if m.is_file() && std::fs::read(&target).is_ok_and(|old| old == content) => {
                return Ok(())
            }
            _ => {}
        }
        // The working tree is for browsing; git's objects are the backup, and a crash
        // mid-sync is repaired from them at the next run (`repair_worktree`).
        crate::fs::write_replacing_unsynced(&target, content).map_err(|e| io(&target, e))
    }

    /// Resolve a revision: a git revision (`HEAD~2`, a hash, a tag), or `-N` / `N` (N < 1000)
    /// meaning the Nth earlier version of this device's file (0 = the latest).
    fn resolve(&self, path: &str, rev: &str) -> Result<Oid, BackupError> {
        let n = rev.strip_prefix('-').unwrap_or(rev);
        if n.len() <= 3 && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            let back: usize = n.parse().unwrap_or(0);
            let log = self.log(path)?;
            return log
                .get(back)
                .and_then(|e| Oid::from_str(&e.commit).ok())
                .ok_or_else(|| BackupError::BadRevision {
                    store: self.root.clone(),
                    rev: rev.to_string(),
                    reason: format!("`{path}` has only {} version(s)", log.len()),
                });
        }
        let obj = self
            .repo
            .revparse_single(rev)
            .map_err(|e| BackupError::BadRevision {
                store: self.root.clone(),
                rev: rev.to_string(),
                reason: e.message().to_string(),
            })?;
        let commit = obj.peel_to_commit().map_err(|e| BackupError::BadRevision {
            store: self.root.clone(),
            rev: rev.to_string(),
            reason: e.message().to_string(),
        })?;
        Ok(commit.id())
    }

    /// The file at a revision (HEAD when `rev` is `None`).
    pub fn read_at(&self, path: &str, rev: Option<&str>) -> Result<String, BackupError> {
        let oid = self.resolve(path, rev.unwrap_or("HEAD"))?;
        let commit = self
            .repo
            .find_commit(oid)
            .map_err(|e| git(&self.root, "read commit", e))?;
        let tree = commit.tree().map_err(|e| git(&self.root, "read tree", e))?;
        self.blob_text(&tree, path)?
            .ok_or_else(|| BackupError::BadRevision {
                store: self.root.clone(),
                rev: rev.unwrap_or("HEAD").to_string(),
                reason: format!("`{path}` does not exist in that version"),
            })
    }

    /// The commits that changed `path`, newest first.
    pub fn log(&self, path: &str) -> Result<Vec<LogEntry>, BackupError> {
        let mut out = Vec::new();
        if self.head_tree()?.is_none() {
            return Ok(out);
        }
        let mut walk = self.repo.revwalk().map_err(|e| git(&self.root, "log", e))?;
        walk.push_head().map_err(|e| git(&self.root, "log", e))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
            .map_err(|e| git(&self.root, "log", e))?;
        for oid in walk {
            let oid = oid.map_err(|e| git(&self.root, "log", e))?;
            let c = self
                .repo
                .find_commit(oid)
                .map_err(|e| git(&self.root, "log", e))?;
            let tree = c.tree().map_err(|e| git(&self.root, "log", e))?;
            let id_here = tree.get_path(Path::new(path)).ok().map(|e| e.id());
            let Some(id_here) = id_here else { continue };
            let parent_tree = c.parent(0).ok().and_then(|p| p.tree().ok());
            let id_before = parent_tree
                .as_ref()
                .and_then(|t| t.get_path(Path::new(path)).ok())
                .map(|e| e.id());
            if id_before == Some(id_here) {
                continue;
            }
            let new = self.blob_text(&tree, path)?.unwrap_or_default();
            let old = match &parent_tree {
                Some(t) => self.blob_text(t, path)?.unwrap_or_default(),
                None => String::new(),
            };
            let (added, removed) = super::sanity::line_changes(&old, &new);
            out.push(LogEntry {
                commit: oid.to_string(),
                time: c.time().seconds(),
                author: c.author().name().unwrap_or("").to_string(),
                summary: c.summary().unwrap_or("").to_string(),
                added,
                removed,
                shard: shard_of(c.message().unwrap_or("")),
            });
        }
        Ok(out)
    }

    /// Push the branch to `url` now, under the store's lock (see [`Store::push_if_needed`]).
    pub fn push(&self, url: &str, opts: &PushOptions) -> Result<PushReport, BackupError> {
        let _lock = self.lock()?;
        self.push_locked(url, opts)
    }

    /// Fetch, rebase what the remote lacks onto its tip, push; again while other writers
    /// move the branch in between, at most `opts.attempts` times. Never a forced push.
    fn push_locked(&self, url: &str, opts: &PushOptions) -> Result<PushReport, BackupError> {
        let remote = Remote::parse(url, opts).map_err(|reason| BackupError::Push {
            store: self.root.clone(),
            url: crate::secret::redact_url(url),
            reason,
        })?;
        let fail = |reason: String| BackupError::Push {
            store: self.root.clone(),
            url: remote.shown.clone(),
            reason,
        };
        let mut report = PushReport {
            url: remote.shown.clone(),
            attempts: 0,
            rebased: 0,
            same_file: Vec::new(),
            head: String::new(),
        };
        let branch = self.branch_name();
        let attempts = opts.attempts.max(1);
        for attempt in 1..=attempts {
            report.attempts = attempt;
            let Some(local) = self.head_id()? else {
                // Nothing committed yet: nothing to push.
                return Ok(report);
            };
            let theirs = remote.fetch(&self.repo, &branch).map_err(fail)?;
            let to_push = match theirs {
                None => local,
                Some(t) if t == local => {
                    report.head = local.to_string();
                    return Ok(report);
                }
                Some(t) if self.descends(local, t)? => local,
                Some(t) if self.descends(t, local)? => {
                    // The remote has all of ours and more (other writers): catch up.
                    self.move_branch(&branch, local, t)?;
                    report.head = t.to_string();
                    return Ok(report);
                }
                Some(t) => {
                    let base = match self.repo.merge_base(local, t) {
                        Ok(b) => Some(b),
                        Err(e) if e.code() == git2::ErrorCode::NotFound => {
                            if !self.unpublished() {
                                return Err(BackupError::UnrelatedHistory {
                                    store: self.root.clone(),
                                    url: remote.shown.clone(),
                                    branch: branch.clone(),
                                });
                            }
                            // A new store's first push onto a remote others already filled
                            // (a shard in a fresh pod): its commits go on top of theirs.
                            None
                        }
                        Err(e) => return Err(git(&self.root, "find the common commit", e)),
                    };
                    let (tip, n, same) = self.replay(base, local, t)?;
                    for s in &same {
                        tracing::warn!("backup store {}: {s}", self.root.display());
                    }
                    // Each round replays the same local commits again: report the last.
                    report.rebased = report.rebased.max(n);
                    report.same_file = same;
                    self.move_branch(&branch, local, tip)?;
                    tip
                }
            };
            match remote
                .push(&self.repo, &branch, to_push, theirs)
                .map_err(fail)?
            {
                Pushed::Done => {
                    report.head = to_push.to_string();
                    let _ = std::fs::remove_file(self.repo.path().join(UNPUBLISHED));
                    return Ok(report);
                }
                Pushed::Moved => {
                    tracing::info!(
                        "backup store {}: {} moved during the push (attempt {attempt}/{attempts}); fetching again",
                        self.root.display(),
                        remote.shown
                    );
                    std::thread::sleep(backoff(attempt));
                }
            }
        }
        Err(BackupError::PushRace {
            store: self.root.clone(),
            url: remote.shown.clone(),
            attempts,
        })
    }

    /// The checked-out branch's full name (`refs/heads/main`).
    fn branch_name(&self) -> String {
        self.repo
            .find_reference("HEAD")
            .ok()
            .and_then(|h| h.symbolic_target().map(str::to_string))
            .unwrap_or_else(|| format!("refs/heads/{BRANCH}"))
    }

    fn head_id(&self) -> Result<Option<Oid>, BackupError> {
        match self.repo.head() {
            Ok(h) => Ok(h.target()),
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(git(&self.root, "read HEAD", e)),
        }
    }

    /// `a` has `b` in its history (or is `b`).
    fn descends(&self, a: Oid, b: Oid) -> Result<bool, BackupError> {
        if a == b {
            return Ok(true);
        }
        self.repo
            .graph_descendant_of(a, b)
            .map_err(|e| git(&self.root, "compare with the remote", e))
    }

    /// Move the branch from `old` to `new` in one compare-and-swap (libgit2 writes the ref's
    /// lock file and renames it), then refresh the working tree.
    fn move_branch(&self, branch: &str, old: Oid, new: Oid) -> Result<(), BackupError> {
        self.repo
            .reference_matching(branch, new, true, old, "netorch: onto the remote's tip")
            .map_err(|e| git(&self.root, &format!("move {branch}"), e))?;
        if let Err(e) = self.sync_worktree() {
            tracing::warn!("{e}");
        }
        Ok(())
    }

    /// The store was created by netorch and has not met its remote yet.
    fn unpublished(&self) -> bool {
        self.repo.path().join(UNPUBLISHED).exists()
    }

    /// Replay the commits `base..local` onto `onto`, oldest first, each as the change it
    /// made to its parent (files written or removed), keeping message and author. Writers
    /// back up different devices, so their changes seldom meet; when both sides changed
    /// the same file, the newer backup wins: ours unless the remote's last change to that
    /// file was authored (backed up) later than our commit. Each such file is named in the rebased
    /// commit's message and returned. Only objects are written here; the caller moves the
    /// branch. Returns the new tip and how many commits were replayed.
    fn replay(
        &self,
        base: Option<Oid>,
        local: Oid,
        onto: Oid,
    ) -> Result<(Oid, usize, Vec<String>), BackupError> {
        let g = |op: &str| {
            let op = op.to_string();
            move |e: git2::Error| git(&self.root, &op, e)
        };
        let commits_between = |tip: Oid| -> Result<Vec<Oid>, BackupError> {
            let mut walk = self.repo.revwalk().map_err(g("rebase"))?;
            walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
                .map_err(g("rebase"))?;
            walk.push(tip).map_err(g("rebase"))?;
            if let Some(b) = base {
                walk.hide(b).map_err(g("rebase"))?;
            }
            walk.collect::<Result<Vec<_>, _>>().map_err(g("rebase"))
        };
        // path -> when the remote last changed it, and in which commit.
        let mut theirs: std::collections::HashMap<String, (i64, Oid)> =
            std::collections::HashMap::new();
        for id in commits_between(onto)? {
            let c = self.repo.find_commit(id).map_err(g("rebase"))?;
            for (path, _) in self.changes(&c)? {
                // Author time: when the backup was taken, kept through rebases (the
                // committer time of a rebased commit is when it was replayed).
                let t = c.author().when().seconds();
                let e = theirs.entry(path).or_insert((t, id));
                if t >= e.0 {
                    *e = (t, id);
                }
            }
        }
        let mut tip = self.repo.find_commit(onto).map_err(g("rebase"))?;
        let mut replayed = 0;
        let mut same_file = Vec::new();
        for id in commits_between(local)? {
            let c = self.repo.find_commit(id).map_err(g("rebase"))?;
            let ours_time = c.author().when().seconds();
            let tip_tree = tip.tree().map_err(g("rebase"))?;
            let mut update = TreeUpdateBuilder::new();
            let mut notes = Vec::new();
            for (path, new) in self.changes(&c)? {
                let current = tip_tree.get_path(Path::new(&path)).ok().map(|e| e.id());
                if current == new.map(|(id, _)| id) {
                    continue;
                }
                if let Some((their_time, their_commit)) = theirs.get(&path) {
                    let short: String = their_commit.to_string().chars().take(10).collect();
                    if *their_time > ours_time {
                        notes.push(format!(
                            "Same-file: {path}: kept the other writer's newer backup ({short})"
                        ));
                        continue;
                    }
                    notes.push(format!(
                        "Same-file: {path}: this backup replaced the other writer's older one ({short})"
                    ));
                }
                match new {
                    Some((oid, mode)) => {
                        let mode = if mode == i32::from(FileMode::BlobExecutable) {
                            FileMode::BlobExecutable
                        } else {
                            FileMode::Blob
                        };
                        update.upsert(path.as_str(), oid, mode);
                    }
                    None => {
                        update.remove(path.as_str());
                    }
                }
            }
            let tree_id = update
                .create_updated(&self.repo, &tip_tree)
                .map_err(g("rebase: write tree"))?;
            if tree_id == tip_tree.id() {
                // Everything it changed is already there, or lost to newer backups.
                same_file.extend(notes);
                continue;
            }
            let tree = self.repo.find_tree(tree_id).map_err(g("rebase"))?;
            let mut message = c.message().unwrap_or("").trim_end().to_string();
            if !notes.is_empty() {
                // Into the trailer block when there is one (`Shard:`), so that git's
                // trailer parsing still finds both.
                let last = message.lines().last().unwrap_or("");
                if !last.starts_with(SHARD_TRAILER) {
                    message.push('\n');
                }
                for n in &notes {
                    message.push('\n');
                    message.push_str(n);
                }
            }
            message.push('\n');
            let committer = c.committer();
            let now = Signature::now(
                committer.name().unwrap_or(DEFAULT_AUTHOR_NAME),
                committer.email().unwrap_or(DEFAULT_AUTHOR_EMAIL),
            )
            .map_err(g("rebase: committer"))?;
            let new_id = self
                .repo
                .commit(None, &c.author(), &now, &message, &tree, &[&tip])
                .map_err(g("rebase: commit"))?;
            tip = self.repo.find_commit(new_id).map_err(g("rebase"))?;
            replayed += 1;
            same_file.extend(notes);
        }
        Ok((tip.id(), replayed, same_file))
    }

    /// The files a commit wrote or removed against its first parent: path -> the new
    /// (blob, mode), `None` when removed.
    fn changes(
        &self,
        c: &git2::Commit<'_>,
    ) -> Result<Vec<(String, Option<BlobEntry>)>, BackupError> {
        let g = |e: git2::Error| git(&self.root, "rebase: diff", e);
        let new = c.tree().map_err(g)?;
        let old = match c.parent(0) {
            Ok(p) => Some(p.tree().map_err(g)?),
            Err(_) => None,
        };
        let diff = self
            .repo
            .diff_tree_to_tree(old.as_ref(), Some(&new), None)
            .map_err(g)?;
        let mut out = Vec::new();
        for d in diff.deltas() {
            let (file, gone) = match d.status() {
                git2::Delta::Deleted => (d.old_file(), true),
                _ => (d.new_file(), false),
            };
            let Some(path) = file.path().and_then(|p| p.to_str()) else {
                continue;
            };
            let new = (!gone).then(|| (file.id(), i32::from(file.mode())));
            out.push((path.to_string(), new));
        }
        Ok(out)
    }

    /// Start a new, empty store from the remote's tip, so that its first run compares
    /// against (and commits on top of) what other writers stored. Best effort: when the
    /// remote cannot be read now, the first push rebases onto it instead.
    pub fn seed_from(&self, url: &str, opts: &PushOptions) -> Result<bool, BackupError> {
        let _lock = self.lock()?;
        if self.head_id()?.is_some() {
            return Ok(false);
        }
        let remote = Remote::parse(url, opts).map_err(|reason| BackupError::Push {
            store: self.root.clone(),
            url: crate::secret::redact_url(url),
            reason,
        })?;
        let branch = self.branch_name();
        let tip = remote
            .fetch(&self.repo, &branch)
            .map_err(|reason| BackupError::Push {
                store: self.root.clone(),
                url: remote.shown.clone(),
                reason,
            })?;
        let Some(tip) = tip else { return Ok(false) };
        self.repo
            .reference(&branch, tip, false, "netorch: start from the remote")
            .map_err(|e| git(&self.root, "start from the remote", e))?;
        let _ = std::fs::remove_file(self.repo.path().join(UNPUBLISHED));
        if let Err(e) = self.sync_worktree() {
            tracing::warn!("{e}");
        }
        Ok(true)
    }

    /// A push failed (or was cut short) since the last one that succeeded.
    pub fn push_pending(&self) -> bool {
        self.repo.path().join(PUSH_PENDING).exists()
    }

    /// Push to `url` now if there is something to push: a new `commit`, or an earlier push
    /// that did not finish. The marker is written first and removed only after the remote
    /// took the commits, so a run killed mid-push, or a remote that was down, leaves it for
    /// the next run.
    pub fn push_if_needed(
        &self,
        url: &str,
        committed: bool,
        opts: &PushOptions,
    ) -> Result<Option<PushReport>, BackupError> {
        if !committed && !self.push_pending() {
            return Ok(None);
        }
        let _lock = self.lock()?;
        let marker = self.repo.path().join(PUSH_PENDING);
        std::fs::write(&marker, b"").map_err(|e| BackupError::Io {
            path: marker.clone(),
            source: e,
        })?;
        let report = self.push_locked(url, opts)?;
        let _ = std::fs::remove_file(&marker);
        Ok(Some(report))
    }

    /// Take the store's lock (waiting for another process) and clear stale git lock files.
    fn lock(&self) -> Result<StoreLock, BackupError> {
        let path = self.repo.path().join("netorch.lock");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(LOCK_WAIT_SECS);
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = writeln!(f, "{}", std::process::id());
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if lock_holder_gone(&path) {
                        tracing::warn!("removing the lock of a netorch process that is gone");
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if std::time::Instant::now() >= deadline {
                        return Err(BackupError::Locked(self.root.clone()));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(BackupError::Io { path, source: e }),
            }
        }
        let guard = StoreLock(path);
        // Only netorch writes the store and it holds this lock while doing so: a git lock
        // file seen now was left by a process that died mid-write.
        let gitdir = self.repo.path();
        let mut stale = vec![gitdir.join("HEAD.lock"), gitdir.join("index.lock")];
        if let Ok(h) = self.repo.find_reference("HEAD") {
            if let Some(target) = h.symbolic_target() {
                stale.push(gitdir.join(format!("{target}.lock")));
            }
        }
        for p in stale {
            if p.exists() {
                tracing::warn!("removing stale git lock file {}", p.display());
                let _ = std::fs::remove_file(&p);
            }
        }
        self.remove_leftovers();
        Ok(guard)
    }

    /// What a netorch process killed mid-write leaves in the working tree (under the lock,
    /// no writer is alive): the staging folder of a store's creation, and the temporary
    /// files of atomic writes (`.tmpXXXXXX`, never a backup's name).
    fn remove_leftovers(&self) {
        let staging = self.root.join(".netorch-init");
        if staging.is_dir() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                let Ok(kind) = e.file_type() else { continue };
                if kind.is_dir() && name != ".git" {
                    dirs.push(e.path());
                } else if kind.is_file() && name.starts_with(".tmp") && name.len() == 10 {
                    tracing::warn!("removing a half-written file {}", e.path().display());
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// The store's lock file, removed on drop.
struct StoreLock(PathBuf);

impl Drop for StoreLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The lock file names a process that no longer runs (killed mid-commit). Without `/proc`
/// (not Linux) a holder is never presumed gone; the wait times out with a clear error.
fn lock_holder_gone(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        // Being written right now, or garbage; garbage older than a minute is stale.
        return std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(60));
    };
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

fn git(store: &Path, op: &str, source: git2::Error) -> BackupError {
    BackupError::Git {
        store: store.to_path_buf(),
        op: op.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn commit_read_log_and_no_empty_commits() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let s = Store::open_or_init(&root).unwrap();
        assert_eq!(s.read("r1.cfg").unwrap(), None);
        let a = s
            .commit(
                &files(&[("r1.cfg", "hostname r1\nend\n"), ("ams/r2.cfg", "x\n")]),
                "first",
                &Author::default(),
            )
            .unwrap();
        assert!(a.is_some());
        assert_eq!(
            s.read("r1.cfg").unwrap().as_deref(),
            Some("hostname r1\nend\n")
        );
        // Reads go through HEAD's index: nested paths, the same path spelt loosely, and a
        // folder (not a file) is no stored config.
        assert_eq!(s.read("ams/r2.cfg").unwrap().as_deref(), Some("x\n"));
        assert_eq!(s.read("./ams//r2.cfg").unwrap().as_deref(), Some("x\n"));
        assert_eq!(s.read("ams").unwrap(), None);
        assert_eq!(s.read("ams/r9.cfg").unwrap(), None);
        // Working tree follows.
        assert_eq!(
            std::fs::read_to_string(root.join("ams/r2.cfg")).unwrap(),
            "x\n"
        );
        // Same content: no commit.
        let none = s
            .commit(
                &files(&[("r1.cfg", "hostname r1\nend\n")]),
                "same",
                &Author::default(),
            )
            .unwrap();
        assert_eq!(none, None);
        let b = s
            .commit(
                &files(&[("r1.cfg", "hostname r1\nntp server 1.1.1.1\nend\n")]),
                "second",
                &Author::parse("Backup Bot <bot@example.net>"),
            )
            .unwrap()
            .unwrap();
        // A new HEAD is read, not the index of the one before.
        assert_eq!(
            s.read("r1.cfg").unwrap().as_deref(),
            Some("hostname r1\nntp server 1.1.1.1\nend\n")
        );
        let log = s.log("r1.cfg").unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].commit, b);
        assert_eq!(log[0].author, "Backup Bot");
        assert_eq!((log[0].added, log[0].removed), (1, 0));
        assert_eq!(s.log("ams/r2.cfg").unwrap().len(), 1);
        assert_eq!(
            s.read_at("r1.cfg", Some("1")).unwrap(),
            "hostname r1\nend\n"
        );
        assert_eq!(
            s.read_at("r1.cfg", Some("HEAD~1")).unwrap(),
            "hostname r1\nend\n"
        );
        assert!(s.read_at("r1.cfg", Some("5")).is_err());
        assert!(s.read_at("r1.cfg", Some("nonsense-rev")).is_err());
        let mut f = s.files().unwrap();
        f.sort();
        assert_eq!(f, vec!["ams/r2.cfg".to_string(), "r1.cfg".to_string()]);
    }

    #[test]
    fn a_killed_writer_leaves_nothing_behind_for_the_next_commit() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let s = Store::open_or_init(&root).unwrap();
        std::fs::create_dir_all(root.join(".netorch-init/.git")).unwrap();
        std::fs::create_dir_all(root.join("ams")).unwrap();
        std::fs::write(root.join("ams/.tmpAbC123"), "half").unwrap();
        std::fs::write(root.join(".tmpXyZ789"), "half").unwrap();
        s.commit(&files(&[("ams/r1.cfg", "a\n")]), "one", &Author::default())
            .unwrap();
        assert!(!root.join(".netorch-init").exists());
        assert!(!root.join("ams/.tmpAbC123").exists());
        assert!(!root.join(".tmpXyZ789").exists());
        assert!(root.join("ams/r1.cfg").exists());
        // A run with nothing to commit repairs the tree under the lock too: the leftover of
        // a writer killed while repairing (found by tests/backup.rs under load) goes.
        std::fs::write(root.join(".tmpQrS456"), "half").unwrap();
        std::fs::remove_file(root.join("ams/r1.cfg")).unwrap();
        s.repair_worktree().unwrap();
        assert!(!root.join(".tmpQrS456").exists());
        assert_eq!(
            std::fs::read_to_string(root.join("ams/r1.cfg")).unwrap(),
            "a\n"
        );
    }

    #[test]
    fn working_tree_is_private_and_never_written_through_a_link() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("victim"), "precious\n").unwrap();
        let s = Store::open_or_init(&root).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        s.commit(
            &files(&[("ams/r1.cfg", "a\n"), ("r2.cfg", "b\n")]),
            "1",
            &Author::default(),
        )
        .unwrap();
        assert_eq!(mode(&root.join("ams")), 0o700);
        assert_eq!(mode(&root.join("ams/r1.cfg")), 0o600);
        assert_eq!(mode(&root.join("r2.cfg")), 0o600);
        // Someone with write access to the working tree plants links.
        std::fs::remove_dir_all(root.join("ams")).unwrap();
        symlink(&outside, root.join("ams")).unwrap();
        std::fs::remove_file(root.join("r2.cfg")).unwrap();
        symlink(outside.join("victim"), root.join("r2.cfg")).unwrap();
        s.commit(
            &files(&[("ams/r1.cfg", "evil\n"), ("r2.cfg", "evil\n")]),
            "2",
            &Author::default(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(outside.join("victim")).unwrap(),
            "precious\n"
        );
        assert!(!outside.join("r1.cfg").exists());
        // The file link was replaced by the file; the folder link was refused, loudly.
        assert!(!std::fs::symlink_metadata(root.join("r2.cfg"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(root.join("r2.cfg")).unwrap(),
            "evil\n"
        );
        let e = s.sync_worktree().unwrap_err().to_string();
        assert!(e.contains("symbolic link") && e.contains("ams"), "{e}");
        // What is stored is untouched by the working tree.
        assert_eq!(s.read("ams/r1.cfg").unwrap().as_deref(), Some("evil\n"));
    }

    #[test]
    fn git_gets_url_credentials_from_the_environment_helper() {
        use std::io::Write;
        let mut child = std::process::Command::new("git")
            .args([
                "-c",
                "credential.helper=",
                "-c",
                super::super::remote::GIT_ENV_CREDENTIAL_HELPER,
            ])
            .args(["credential", "fill"])
            .env("NETORCH_GIT_USERNAME", "bot")
            .env("NETORCH_GIT_PASSWORD", "t0k'en$x")
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"protocol=https\nhost=git.example.net\n\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("username=bot\npassword=t0k'en$x\n"), "{text}");
    }

    #[test]
    fn stale_lock_files_do_not_block_and_push_works() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let s = Store::open_or_init(&root).unwrap();
        s.commit(&files(&[("a.cfg", "1\n")]), "one", &Author::default())
            .unwrap();
        // As if a process died between writing the ref's lock file and renaming it.
        std::fs::write(root.join(".git/refs/heads/main.lock"), "garbage").unwrap();
        std::fs::write(root.join(".git/index.lock"), "").unwrap();
        let c = s
            .commit(&files(&[("a.cfg", "2\n")]), "two", &Author::default())
            .unwrap();
        assert!(c.is_some());
        let bare = dir.path().join("remote.git");
        Repository::init_bare(&bare).unwrap();
        s.push(bare.to_str().unwrap(), &PushOptions::default())
            .unwrap();
        let r = Repository::open_bare(&bare).unwrap();
        let tip = r
            .find_reference("refs/heads/main")
            .unwrap()
            .target()
            .unwrap();
        assert_eq!(tip.to_string(), c.unwrap());
    }

    #[test]
    fn network_push_failure_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_or_init(&dir.path().join("s")).unwrap();
        s.commit(&files(&[("a.cfg", "1\n")]), "one", &Author::default())
            .unwrap();
        // Port 1 on loopback: refused at once, no prompt, no hang.
        let e = s
            .push("https://127.0.0.1:1/configs.git", &PushOptions::default())
            .unwrap_err();
        assert!(matches!(e, BackupError::Push { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("push to https://127.0.0.1:1/configs.git"),
            "{e}"
        );
    }

    fn tip(bare: &Path) -> Oid {
        Repository::open_bare(bare)
            .unwrap()
            .find_reference("refs/heads/main")
            .unwrap()
            .target()
            .unwrap()
    }

    /// Subjects along the first-parent chain, newest first, and whether any commit has
    /// more than one parent.
    fn history(bare: &Path) -> (Vec<String>, bool) {
        let r = Repository::open_bare(bare).unwrap();
        let mut c = r.find_commit(tip(bare)).unwrap();
        let mut out = vec![c.summary().unwrap().to_string()];
        let mut merges = c.parent_count() > 1;
        while let Ok(p) = c.parent(0) {
            merges |= p.parent_count() > 1;
            out.push(p.summary().unwrap().to_string());
            c = p;
        }
        (out, merges)
    }

    fn blob_at_tip(bare: &Path, path: &str) -> String {
        let r = Repository::open_bare(bare).unwrap();
        let t = r.find_commit(tip(bare)).unwrap().tree().unwrap();
        let e = t.get_path(Path::new(path)).unwrap();
        let text = String::from_utf8(r.find_blob(e.id()).unwrap().content().to_vec()).unwrap();
        text
    }

    #[test]
    fn writers_sharing_a_remote_are_rebased_never_forced() {
        let dir = tempfile::tempdir().unwrap();
        let bare = dir.path().join("remote.git");
        Repository::init_bare(&bare).unwrap();
        let url = bare.to_str().unwrap();
        let o = PushOptions::default();
        let a = Store::open_or_init(&dir.path().join("a")).unwrap();
        let b = Store::open_or_init(&dir.path().join("b")).unwrap();
        a.commit(
            &files(&[("a.cfg", "a1\n")]),
            "A1\n\nShard: 1/2\n",
            &Author::default(),
        )
        .unwrap();
        b.commit(
            &files(&[("b.cfg", "b1\n")]),
            "B1\n\nShard: 2/2\n",
            &Author::default(),
        )
        .unwrap();
        let ra = a.push_if_needed(url, true, &o).unwrap().unwrap();
        assert_eq!(ra.rebased, 0);
        // B is a new store whose history shares nothing with the remote: it goes on top.
        let rb = b.push_if_needed(url, true, &o).unwrap().unwrap();
        assert_eq!(rb.rebased, 1, "{rb:?}");
        assert_eq!(rb.head, tip(&bare).to_string());
        assert_eq!(history(&bare), (vec!["B1".into(), "A1".into()], false));
        // Both stores now share history; each writes its own file again.
        a.commit(&files(&[("a.cfg", "a2\n")]), "A2", &Author::default())
            .unwrap();
        b.commit(
            &files(&[("b.cfg", "b2\n")]),
            "B2\n\nShard: 2/2\n",
            &Author::default(),
        )
        .unwrap();
        b.push_if_needed(url, true, &o).unwrap().unwrap();
        let ra = a.push_if_needed(url, true, &o).unwrap().unwrap();
        assert_eq!(ra.rebased, 1);
        assert!(ra.same_file.is_empty(), "{ra:?}");
        let (subjects, merges) = history(&bare);
        assert_eq!(subjects, ["A2", "B2", "B1", "A1"]);
        assert!(!merges);
        assert_eq!(blob_at_tip(&bare, "a.cfg"), "a2\n");
        assert_eq!(blob_at_tip(&bare, "b.cfg"), "b2\n");
        // The local store caught up with the other writer's files, and HEAD is the tip.
        assert_eq!(a.read("b.cfg").unwrap().as_deref(), Some("b2\n"));
        assert_eq!(a.head_id().unwrap(), Some(tip(&bare)));
        // The shard line survives the rebase and the log shows it.
        let log = a.log("b.cfg").unwrap();
        assert_eq!(log[0].shard.as_deref(), Some("2/2"));
        assert_eq!(a.log("a.cfg").unwrap()[0].shard, None);
        // Nothing new: nothing pushed.
        assert!(a.push_if_needed(url, false, &o).unwrap().is_none());
    }

    #[test]
    fn same_file_from_two_writers_keeps_the_newer_backup() {
        let dir = tempfile::tempdir().unwrap();
        let bare = dir.path().join("remote.git");
        Repository::init_bare(&bare).unwrap();
        let url = bare.to_str().unwrap();
        let o = PushOptions::default();
        let a = Store::open_or_init(&dir.path().join("a")).unwrap();
        a.commit(&files(&[("r1.cfg", "base\n")]), "base", &Author::default())
            .unwrap();
        a.push_if_needed(url, true, &o).unwrap();
        let b = Store::open_or_init(&dir.path().join("b")).unwrap();
        b.seed_from(url, &o).unwrap();
        assert_eq!(b.read("r1.cfg").unwrap().as_deref(), Some("base\n"));
        // B backs r1 up first (older); A later (newer) and pushes first.
        b.commit(
            &files(&[("r1.cfg", "from b\n"), ("b.cfg", "b\n")]),
            "B old",
            &Author::default(),
        )
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        a.commit(
            &files(&[("r1.cfg", "from a\n")]),
            "A new",
            &Author::default(),
        )
        .unwrap();
        a.push_if_needed(url, true, &o).unwrap();
        let rb = b.push_if_needed(url, true, &o).unwrap().unwrap();
        assert_eq!(blob_at_tip(&bare, "r1.cfg"), "from a\n");
        assert_eq!(blob_at_tip(&bare, "b.cfg"), "b\n");
        assert!(
            rb.same_file.len() == 1 && rb.same_file[0].contains("kept the other writer's newer"),
            "{rb:?}"
        );
        let msg = Repository::open_bare(&bare)
            .unwrap()
            .find_commit(tip(&bare))
            .unwrap()
            .message()
            .unwrap()
            .to_string();
        assert!(msg.contains("Same-file: r1.cfg"), "{msg}");
        // Now B is the newer one: its backup replaces A's older one.
        a.commit(
            &files(&[("r1.cfg", "a again\n")]),
            "A older",
            &Author::default(),
        )
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        b.commit(
            &files(&[("r1.cfg", "b newest\n")]),
            "B newest",
            &Author::default(),
        )
        .unwrap();
        a.push_if_needed(url, true, &o).unwrap();
        let rb = b.push_if_needed(url, true, &o).unwrap().unwrap();
        assert_eq!(blob_at_tip(&bare, "r1.cfg"), "b newest\n");
        assert!(
            rb.same_file[0].contains("replaced the other writer's older"),
            "{rb:?}"
        );
        assert!(!history(&bare).1);
    }

    #[test]
    fn writers_racing_on_a_local_remote_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let bare = dir.path().join("remote.git");
        Repository::init_bare(&bare).unwrap();
        let url = bare.to_str().unwrap().to_string();
        let stores: Vec<Store> = (0..4)
            .map(|k| {
                let s = Store::open_or_init(&dir.path().join(format!("s{k}"))).unwrap();
                s.commit(
                    &files(&[(&format!("r{k}.cfg"), "x\n")]),
                    &format!("w{k}"),
                    &Author::default(),
                )
                .unwrap();
                s
            })
            .collect();
        let o = PushOptions {
            attempts: 20,
            ..PushOptions::default()
        };
        std::thread::scope(|sc| {
            for s in stores {
                let (url, o) = (&url, &o);
                sc.spawn(move || s.push_if_needed(url, true, o).unwrap().unwrap());
            }
        });
        let (subjects, merges) = history(&bare);
        let mut sorted = subjects.clone();
        sorted.sort();
        assert_eq!(sorted, ["w0", "w1", "w2", "w3"], "{subjects:?}");
        assert!(!merges);
        for k in 0..4 {
            assert_eq!(blob_at_tip(&bare, &format!("r{k}.cfg")), "x\n");
        }
    }

    #[test]
    fn unrelated_remote_is_refused_and_a_deleted_branch_is_pushed_again() {
        let dir = tempfile::tempdir().unwrap();
        let o = PushOptions::default();
        let mine = dir.path().join("mine.git");
        let other = dir.path().join("other.git");
        Repository::init_bare(&mine).unwrap();
        Repository::init_bare(&other).unwrap();
        let a = Store::open_or_init(&dir.path().join("a")).unwrap();
        a.commit(&files(&[("a.cfg", "1\n")]), "one", &Author::default())
            .unwrap();
        a.push_if_needed(mine.to_str().unwrap(), true, &o).unwrap();
        let x = Store::open_or_init(&dir.path().join("x")).unwrap();
        x.commit(&files(&[("x.cfg", "1\n")]), "x", &Author::default())
            .unwrap();
        x.push_if_needed(other.to_str().unwrap(), true, &o).unwrap();
        let before = tip(&other);
        // A store that already has its own remote meets another store's remote.
        let e = a.push(other.to_str().unwrap(), &o).unwrap_err();
        assert!(matches!(e, BackupError::UnrelatedHistory { .. }), "{e}");
        assert!(e.to_string().contains("shares no history"), "{e}");
        assert_eq!(tip(&other), before);
        assert_eq!(a.read("x.cfg").unwrap(), None);
        // The remote branch was deleted by hand: the next push puts it back whole.
        Repository::open_bare(&mine)
            .unwrap()
            .find_reference("refs/heads/main")
            .unwrap()
            .delete()
            .unwrap();
        a.commit(&files(&[("a.cfg", "2\n")]), "two", &Author::default())
            .unwrap();
        a.push_if_needed(mine.to_str().unwrap(), true, &o).unwrap();
        assert_eq!(history(&mine).0, ["two", "one"]);
        // A typo'd path is a clear error, not a new repository.
        let e = a
            .push(dir.path().join("nope.git").to_str().unwrap(), &o)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no git repository at") && e.contains("git init --bare"),
            "{e}"
        );
    }

    #[test]
    fn open_refuses_a_plain_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Store::open(dir.path()),
            Err(BackupError::NotAStore(_))
        ));
    }
}
