//! Read-only, paged views of a backup store for the web interface, straight from git
//! (git2, no `git` binary). Nothing here walks a whole history per request: a device's
//! history is read a page at a time from a cursor, along first parents, and each request
//! looks at no more than a bounded number of commits (a page that ran out of that budget
//! says so and offers to go on). The store's writer (`backup::store`) is not touched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("backup store {}: {op}: {source}", store.display())]
    Git {
        store: PathBuf,
        op: String,
        #[source]
        source: git2::Error,
    },
    #[error("backup store {}: `{rev}` is not a revision of this store", store.display())]
    BadRevision { store: PathBuf, rev: String },
}

fn git(store: &Path, op: &str, source: git2::Error) -> HistoryError {
    HistoryError::Git {
        store: store.to_path_buf(),
        op: op.to_string(),
        source,
    }
}

/// One version of a device's file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Version {
    pub commit: String,
    pub short: String,
    /// Seconds since the epoch.
    pub time: i64,
    pub author: String,
    pub summary: String,
    pub added: usize,
    pub removed: usize,
}

/// A page of a device's history, newest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryPage {
    pub versions: Vec<Version>,
    /// Where the next (older) page starts, when there is more to look at.
    pub next: Option<String>,
    /// Commits looked at for this page.
    pub scanned: usize,
    /// The page stopped because it looked at its budget of commits, not because it was full.
    pub budget_spent: bool,
}

/// An open store.
pub struct StoreReader {
    repo: Repository,
    root: PathBuf,
}

impl StoreReader {
    pub fn open(root: &Path) -> Result<StoreReader, HistoryError> {
        let repo = Repository::open(root).map_err(|e| git(root, "open", e))?;
        Ok(StoreReader {
            repo,
            root: root.to_path_buf(),
        })
    }

    /// HEAD's commit, `None` for a store with no commit yet.
    pub fn head(&self) -> Result<Option<Oid>, HistoryError> {
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

    /// Every file at HEAD with its blob id.
    pub fn files(&self) -> Result<Vec<String>, HistoryError> {
        let Some(head) = self.head()? else {
            return Ok(Vec::new());
        };
        let tree = self.tree_of(head)?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(git2::ObjectType::Blob) {
                if let Some(n) = e.name() {
                    out.push(format!("{dir}{n}"));
                }
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(|e| git(&self.root, "list files", e))?;
        Ok(out)
    }

    /// The time of a commit (seconds since the epoch).
    pub fn commit_time(&self, id: Oid) -> Result<i64, HistoryError> {
        let c = self
            .repo
            .find_commit(id)
            .map_err(|e| git(&self.root, "read commit", e))?;
        Ok(c.time().seconds())
    }

    fn tree_of(&self, id: Oid) -> Result<git2::Tree<'_>, HistoryError> {
        self.repo
            .find_commit(id)
            .and_then(|c| c.tree())
            .map_err(|e| git(&self.root, "read tree", e))
    }

    /// A revision the user typed (a commit id, a prefix of one, `HEAD`, `HEAD~3`), as a
    /// commit. Anything that is not a commit of this store is [`HistoryError::BadRevision`].
    pub fn resolve(&self, rev: &str) -> Result<Oid, HistoryError> {
        let bad = || HistoryError::BadRevision {
            store: self.root.clone(),
            rev: rev.to_string(),
        };
        let ok = !rev.is_empty()
            && rev.len() <= 64
            && rev
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '~' | '^'))
            && !rev.starts_with('-');
        if !ok {
            return Err(bad());
        }
        let obj = self.repo.revparse_single(rev).map_err(|_| bad())?;
        let c = obj.peel_to_commit().map_err(|_| bad())?;
        Ok(c.id())
    }

    /// The file's blob at a commit, `None` when the file is not in it.
    fn blob_at(&self, commit: Oid, path: &str) -> Result<Option<Oid>, HistoryError> {
        let tree = self.tree_of(commit)?;
        match tree.get_path(Path::new(path)) {
            Ok(e) if e.kind() == Some(git2::ObjectType::Blob) => Ok(Some(e.id())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git(&self.root, &format!("read {path}"), e)),
        }
    }

    fn blob_text(&self, id: Oid) -> Result<String, HistoryError> {
        let b = self
            .repo
            .find_blob(id)
            .map_err(|e| git(&self.root, "read blob", e))?;
        Ok(String::from_utf8_lossy(b.content()).into_owned())
    }

    /// The file's text at a commit (`None`: not in that commit).
    pub fn read_at(&self, commit: Oid, path: &str) -> Result<Option<String>, HistoryError> {
        match self.blob_at(commit, path)? {
            Some(b) => Ok(Some(self.blob_text(b)?)),
            None => Ok(None),
        }
    }

    /// Up to `per_page` versions of `path`, from commit `from` (HEAD when `None`) back
    /// along first parents, looking at no more than `budget` commits.
    pub fn history(
        &self,
        path: &str,
        from: Option<Oid>,
        per_page: usize,
        budget: usize,
    ) -> Result<HistoryPage, HistoryError> {
        let mut page = HistoryPage {
            versions: Vec::new(),
            next: None,
            scanned: 0,
            budget_spent: false,
        };
        let start = match from {
            Some(f) => Some(f),
            None => self.head()?,
        };
        let Some(mut cur) = start else {
            return Ok(page);
        };
        let mut cur_blob = self.blob_at(cur, path)?;
        loop {
            let commit = self
                .repo
                .find_commit(cur)
                .map_err(|e| git(&self.root, "read commit", e))?;
            let parent = commit.parent_id(0).ok();
            let parent_blob = match parent {
                Some(p) => self.blob_at(p, path)?,
                None => None,
            };
            page.scanned += 1;
            if let Some(b) = cur_blob.filter(|b| Some(*b) != parent_blob) {
                let new = self.blob_text(b)?;
                let old = match parent_blob {
                    Some(p) => self.blob_text(p)?,
                    None => String::new(),
                };
                let (added, removed) = crate::backup::sanity::line_changes(&old, &new);
                let id = cur.to_string();
                page.versions.push(Version {
                    short: id[..id.len().min(10)].to_string(),
                    commit: id,
                    time: commit.time().seconds(),
                    author: commit.author().name().unwrap_or("").to_string(),
                    summary: commit.summary().unwrap_or("").to_string(),
                    added,
                    removed,
                });
            }
            let Some(p) = parent else {
                return Ok(page);
            };
            if page.versions.len() >= per_page || page.scanned >= budget {
                page.budget_spent = page.versions.len() < per_page;
                page.next = Some(p.to_string());
                return Ok(page);
            }
            cur = p;
            cur_blob = parent_blob;
        }
    }

    /// The version of `path` before the one at `commit` (its previous change), looking at
    /// no more than `budget` commits.
    pub fn previous_version(
        &self,
        path: &str,
        commit: Oid,
        budget: usize,
    ) -> Result<Option<Oid>, HistoryError> {
        let page = self.history(path, Some(commit), 2, budget)?;
        // The first entry is the version `commit` holds (when it changed the file there) or
        // an older one: either way the version before `commit`'s content is the entry whose
        // content differs from it.
        let here = self.blob_at(commit, path)?;
        for v in page.versions {
            let id = Oid::from_str(&v.commit).map_err(|e| git(&self.root, "parse id", e))?;
            let blob = self.blob_at(id, path)?;
            if blob != here {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// When each file last changed, from HEAD back along first parents, looking at no more
    /// than `budget` commits; `since` continues an earlier index (the commit it was made
    /// at, and what it found), when HEAD has moved on from there.
    pub fn last_changes(
        &self,
        budget: usize,
        since: Option<&LastChanges>,
    ) -> Result<LastChanges, HistoryError> {
        let Some(head) = self.head()? else {
            return Ok(LastChanges::default());
        };
        if let Some(old) = since.filter(|o| o.head == Some(head)) {
            return Ok(old.clone());
        }
        let mut times: HashMap<String, i64> = HashMap::new();
        let mut scanned = 0usize;
        let mut complete = false;
        let mut cur = head;
        let mut cur_tree = self.tree_of(cur)?;
        let mut oldest = self.commit_time(cur)?;
        let files: std::collections::HashSet<String> = self.files()?.into_iter().collect();
        let mut found = 0usize;
        loop {
            if since.is_some_and(|o| o.head == Some(cur)) {
                // Everything older is in the earlier index.
                if let Some(o) = since {
                    for (k, v) in &o.times {
                        if files.contains(k) {
                            times.entry(k.clone()).or_insert(*v);
                        }
                    }
                    complete = o.complete;
                    oldest = oldest.min(o.oldest);
                }
                break;
            }
            let commit = self
                .repo
                .find_commit(cur)
                .map_err(|e| git(&self.root, "read commit", e))?;
            let time = commit.time().seconds();
            oldest = time;
            scanned += 1;
            let parent = commit.parent_id(0).ok();
            let parent_tree = match parent {
                Some(p) => Some(self.tree_of(p)?),
                None => None,
            };
            let diff = self
                .repo
                .diff_tree_to_tree(parent_tree.as_ref(), Some(&cur_tree), None)
                .map_err(|e| git(&self.root, "diff trees", e))?;
            for d in diff.deltas() {
                if let Some(p) = d.new_file().path().and_then(Path::to_str) {
                    if files.contains(p) && !times.contains_key(p) {
                        times.insert(p.to_string(), time);
                        found += 1;
                    }
                }
            }
            if found >= files.len() {
                complete = true;
                break;
            }
            match (parent, parent_tree) {
                (Some(p), Some(t)) => {
                    cur = p;
                    cur_tree = t;
                }
                _ => {
                    complete = true;
                    break;
                }
            }
            if scanned >= budget {
                break;
            }
        }
        Ok(LastChanges {
            head: Some(head),
            times,
            complete,
            oldest,
        })
    }
}

/// When each file at HEAD last changed, as far back as was looked.
#[derive(Debug, Clone, Default)]
pub struct LastChanges {
    pub head: Option<Oid>,
    pub times: HashMap<String, i64>,
    /// Every file's last change was found (else the missing ones changed before `oldest`).
    pub complete: bool,
    /// The oldest commit time looked at.
    pub oldest: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::store::{Author, Store};

    fn store_with(commits: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let st = Store::open_or_init(dir.path()).unwrap();
        for i in 0..commits {
            let mut files = vec![("a.cfg".to_string(), format!("hostname a\n! rev {i}\nend\n"))];
            if i % 3 == 0 {
                files.push(("b.cfg".to_string(), format!("hostname b\n! rev {i}\nend\n")));
            }
            st.commit(&files, &format!("commit {i}"), &Author::default())
                .unwrap();
        }
        (dir, st)
    }

    #[test]
    fn history_pages_follow_the_cursor() {
        let (dir, _st) = store_with(10);
        let r = StoreReader::open(dir.path()).unwrap();
        let p1 = r.history("b.cfg", None, 2, 1000).unwrap();
        assert_eq!(p1.versions.len(), 2);
        assert_eq!(p1.versions[0].summary, "commit 9");
        assert_eq!(p1.versions[1].summary, "commit 6");
        assert_eq!((p1.versions[0].added, p1.versions[0].removed), (1, 1));
        let next = Oid::from_str(p1.next.as_deref().unwrap()).unwrap();
        let p2 = r.history("b.cfg", Some(next), 2, 1000).unwrap();
        assert_eq!(p2.versions[0].summary, "commit 3");
        assert_eq!(p2.versions[1].summary, "commit 0");
        assert_eq!((p2.versions[1].added, p2.versions[1].removed), (3, 0));
        assert!(p2.next.is_none());
        // A budget smaller than the gap between two versions: the page says so.
        let p = r.history("b.cfg", None, 5, 2).unwrap();
        assert!(p.budget_spent && p.next.is_some(), "{p:?}");
        // Previous version of b at HEAD is commit 6.
        let head = r.head().unwrap().unwrap();
        let prev = r.previous_version("b.cfg", head, 100).unwrap().unwrap();
        assert_eq!(
            r.repo.find_commit(prev).unwrap().summary(),
            Some("commit 6")
        );
    }

    #[test]
    fn last_changes_and_revisions() {
        let (dir, st) = store_with(5);
        let r = StoreReader::open(dir.path()).unwrap();
        let lc = r.last_changes(100, None).unwrap();
        assert!(lc.complete);
        assert_eq!(lc.times.len(), 2);
        // Incremental: one more commit changing only a.
        st.commit(
            &[("a.cfg".to_string(), "hostname a\nnew\nend\n".to_string())],
            "more",
            &Author::default(),
        )
        .unwrap();
        let r = StoreReader::open(dir.path()).unwrap();
        let lc2 = r.last_changes(100, Some(&lc)).unwrap();
        assert!(lc2.complete);
        assert!(lc2.times["a.cfg"] >= lc.times["a.cfg"]);
        assert_eq!(lc2.times["b.cfg"], lc.times["b.cfg"]);
        assert!(r.resolve("HEAD~1").is_ok());
        assert!(r.resolve("--upload-pack=x").is_err());
        assert!(r.resolve("deadbeef").is_err());
    }
}
