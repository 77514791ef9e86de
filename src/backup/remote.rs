//! The git remote a backup store is pushed to: which transport a URL means, and fetching
//! and pushing one branch over it.
//!
//! - A local path or `file://` URL is handled by libgit2 directly on the other repository:
//!   objects are copied first (each object after everything it points to, so an object
//!   that exists there always has its whole history), then the branch moves by a
//!   compare-and-swap on its old value. libgit2's own local push moves the ref without that
//!   check, so two writers pushing at once could silently drop one's commit.
//! - Network remotes (`ssh://`, `user@host:path`, `https://`, `http://`) go through the
//!   system's `git`, fetch and push alike: git2 is built without its SSH and HTTPS
//!   transports (no second SSH and TLS stack to keep patched), and `git` brings what
//!   operators already configure for their git server (agents, proxies, CA bundles). netorch
//!   pins what matters: SSH host keys are checked as for devices (`StrictHostKeyChecking`
//!   from the host-key-checking mode, netorch's known_hosts file, `BatchMode`), an HTTPS token
//!   reaches git through the environment and a credential helper (never a command line), and
//!   only the ssh, http(s) and file protocols are allowed (no `ext::` commands from a URL).
//!   A push is never forced: the server refuses it unless the branch is still where it was.

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{ObjectType, Oid, Repository};

use crate::secret::{Redactor, Secret};
use crate::transport::HostKeyChecking;

/// How often a push is tried when other writers keep moving the remote branch. Each round
/// lets at least one of the racing writers through, so this many shards pushing at the same
/// moment all get through in one run (measured: 4 shards at once took up to 4 rounds).
pub const DEFAULT_PUSH_ATTEMPTS: u32 = 10;
/// The environment variable an HTTPS token is read from (when no token file is given).
pub const TOKEN_ENV: &str = "NETORCH_GIT_TOKEN";
/// The user name sent with a token when the URL names none (GitLab, Gitea and GitHub
/// accept any name with a token).
pub const TOKEN_USER: &str = "netorch";

/// A git credential helper that answers from `NETORCH_GIT_USERNAME`/`NETORCH_GIT_PASSWORD`.
pub(super) const GIT_ENV_CREDENTIAL_HELPER: &str = "credential.helper=!f() { test \"$1\" = get && \
     printf 'username=%s\\npassword=%s\\n' \"$NETORCH_GIT_USERNAME\" \"$NETORCH_GIT_PASSWORD\"; }; f";

/// Where fetched remote tips are kept in the store (never a branch anyone checks out).
const TRACKING_PREFIX: &str = "refs/netorch/remote/";

/// How the store talks to its remote, beside the URL.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// SSH remotes: how the server's host key is checked (as for devices; strict by
    /// default).
    pub host_key_checking: HostKeyChecking,
    /// SSH remotes: the known_hosts file (default `~/.ssh/known_hosts`, as for devices).
    pub known_hosts_file: Option<PathBuf>,
    /// SSH remotes: the private key (default: the agent and ssh's own defaults).
    pub ssh_key_file: Option<PathBuf>,
    /// HTTP(S) remotes: a token sent as the password (from `NETORCH_GIT_TOKEN` or a file).
    pub token: Option<Secret>,
    /// Pushes tried when other writers keep moving the branch, fetch and rebase between.
    pub attempts: u32,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            host_key_checking: HostKeyChecking::Strict,
            known_hosts_file: None,
            ssh_key_file: None,
            token: None,
            attempts: DEFAULT_PUSH_ATTEMPTS,
        }
    }
}

impl PushOptions {
    /// The token from `file` (first line, trimmed) or else from [`TOKEN_ENV`].
    pub fn token_from(file: Option<&Path>) -> Result<Option<Secret>, String> {
        if let Some(f) = file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("token file {}: {e}", f.display()))?;
            let t = text.lines().next().unwrap_or("").trim();
            if t.is_empty() {
                return Err(format!("token file {} is empty", f.display()));
            }
            return Ok(Some(Secret::new(t)));
        }
        Ok(std::env::var(TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .map(Secret::new))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Local(PathBuf),
    Ssh,
    Http,
}

/// What a push attempt found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Pushed {
    Done,
    /// The branch moved on the remote since it was fetched (another writer): fetch, rebase,
    /// try again.
    Moved,
}

/// Whether `url` names a remote netorch can push to (scheme and form only; nothing is
/// contacted), so a typo stops a run before its first connection.
pub fn check_url(url: &str) -> Result<(), String> {
    Remote::parse(url, &PushOptions::default()).map(drop)
}

/// One remote URL resolved to its transport, with what may be shown of it.
pub(super) struct Remote<'a> {
    url: &'a str,
    kind: Kind,
    opts: &'a PushOptions,
    /// The URL as it may be printed (credentials masked).
    pub shown: String,
    redactor: Redactor,
}

/// `ssh://user:pw@host/x` -> `ssh://user@host/x`: ssh keeps its user, never a password.
fn ssh_url_without_password(url: &str) -> String {
    match crate::secret::url_credentials(url) {
        Some((user, pass)) if !pass.is_empty() => {
            let no_creds = crate::secret::url_without_credentials(url);
            match no_creds.split_once("://") {
                Some((scheme, rest)) => format!("{scheme}://{user}@{rest}"),
                None => no_creds,
            }
        }
        _ => url.to_string(),
    }
}

/// `user@host:path` or `host:path` (git's scp-like syntax): no scheme, and a colon before
/// the first slash.
fn scp_like(url: &str) -> bool {
    !url.contains("://")
        && url
            .split('/')
            .next()
            .is_some_and(|first| first.contains(':') && !first.starts_with(':'))
}

/// `s` quoted for the shell git runs `GIT_SSH_COMMAND` with.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl<'a> Remote<'a> {
    pub fn parse(url: &'a str, opts: &'a PushOptions) -> Result<Remote<'a>, String> {
        let url_t = url.trim();
        if url_t.is_empty() {
            return Err("the push URL is empty".into());
        }
        let lower = url_t.to_ascii_lowercase();
        // It goes on git's command line: never let it read as an option.
        if url_t.starts_with('-') {
            return Err(format!(
                "`{}`: a URL cannot start with `-`",
                crate::secret::redact_url(url_t)
            ));
        }
        if url_t.split('/').next().is_some_and(|f| f.contains("::")) {
            return Err(format!(
                "`{}`: git's `transport::address` form is not accepted; give an ssh://, https:// or file:// URL or a path",
                crate::secret::redact_url(url_t)
            ));
        }
        let kind = if let Some(path) = url_t.strip_prefix("file://") {
            Kind::Local(PathBuf::from(path))
        } else if lower.starts_with("ssh://")
            || lower.starts_with("git+ssh://")
            || lower.starts_with("ssh+git://")
            || scp_like(url_t)
        {
            Kind::Ssh
        } else if lower.starts_with("https://") || lower.starts_with("http://") {
            Kind::Http
        } else if let Some((scheme, _)) = url_t.split_once("://") {
            let hint = crate::source::suggest(scheme, ["ssh", "https", "http", "file"])
                .map(|s| format!("; did you mean `{s}://`?"))
                .unwrap_or_default();
            return Err(format!(
                "unsupported URL scheme `{scheme}://`: expected ssh://, user@host:path, https://, http://, file:// or a path{hint}"
            ));
        } else {
            Kind::Local(PathBuf::from(url_t))
        };
        let mut redactor = Redactor::new();
        // An SSH user name is no secret (and tells which account was refused).
        let shown = match kind {
            Kind::Ssh => ssh_url_without_password(url_t),
            _ => crate::secret::redact_url(url_t),
        };
        if let Some((user, pass)) = crate::secret::url_credentials(url_t) {
            redactor.add(if pass.is_empty() { user } else { pass });
        }
        if let Some(t) = &opts.token {
            redactor.add(t.expose());
        }
        Ok(Remote {
            url: url_t,
            kind,
            opts,
            shown,
            redactor,
        })
    }

    /// Text from git (or libgit2) with the URL's credentials and the token masked.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text).into_owned()
    }

    /// Fetch `branch` (`refs/heads/main`) from the remote into the store: its tip, or
    /// `None` when the remote has no such branch (a new or emptied remote).
    pub fn fetch(&self, repo: &Repository, branch: &str) -> Result<Option<Oid>, String> {
        match &self.kind {
            Kind::Local(path) => {
                let other = self.open_local(path)?;
                let Some(tip) = ref_target(&other, branch)? else {
                    return Ok(None);
                };
                copy_objects(&other, repo, tip).map_err(|e| self.redact(e.message()))?;
                Ok(Some(tip))
            }
            Kind::Ssh | Kind::Http => {
                let short = branch.strip_prefix("refs/heads/").unwrap_or(branch);
                let tracking = format!("{TRACKING_PREFIX}{short}");
                // A tip left by an earlier fetch must not stand for a branch that is gone.
                if let Ok(mut r) = repo.find_reference(&tracking) {
                    let _ = r.delete();
                }
                // A pattern, so that a remote without the branch is no error: `main*` also
                // brings `main-old` and the like, which are never looked at.
                let spec = format!("+{branch}*:{TRACKING_PREFIX}{short}*");
                let mut cmd = self.git(repo);
                cmd.args([
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--no-recurse-submodules",
                ]);
                cmd.arg(self.wire_url()).arg(spec);
                self.run(cmd, "fetch")?;
                ref_target(repo, &tracking)
            }
        }
    }

    /// Push `new` to `branch` without force: refused by the remote unless the branch is
    /// still at `expected` (`None`: absent).
    pub fn push(
        &self,
        repo: &Repository,
        branch: &str,
        new: Oid,
        expected: Option<Oid>,
    ) -> Result<Pushed, String> {
        match &self.kind {
            Kind::Local(path) => {
                let other = self.open_local(path)?;
                copy_objects(repo, &other, new).map_err(|e| self.redact(e.message()))?;
                // Compare-and-swap under the ref's lock. A branch not there yet is expected
                // as the zero id: libgit2 checks that under the lock too, whereas a
                // non-forced create checks before taking it (two first pushes could both
                // pass, and the second overwrote the first).
                let res = other
                    .reference_matching(
                        branch,
                        new,
                        true,
                        expected.unwrap_or_else(Oid::zero),
                        "netorch backup push",
                    )
                    .map(drop);
                match res {
                    Ok(()) => Ok(Pushed::Done),
                    Err(e)
                        if matches!(
                            e.code(),
                            git2::ErrorCode::Modified
                                | git2::ErrorCode::Exists
                                | git2::ErrorCode::Locked
                        ) =>
                    {
                        Ok(Pushed::Moved)
                    }
                    Err(e) => Err(self.redact(e.message())),
                }
            }
            Kind::Ssh | Kind::Http => {
                let mut cmd = self.git(repo);
                cmd.args(["push", "--porcelain", "--no-verify"])
                    .arg(self.wire_url())
                    .arg(format!("{new}:{branch}"));
                let out = self.output(cmd)?;
                if out.status.success() {
                    return Ok(Pushed::Done);
                }
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                // `--porcelain`: a refused ref is a line `!<TAB>src:dst<TAB>[rejected] (why)`.
                let refused = stdout
                    .lines()
                    .find(|l| l.starts_with('!'))
                    .map(|l| l.rsplit('\t').next().unwrap_or(l).to_string());
                match refused {
                    Some(why) if moved_on(&why) => Ok(Pushed::Moved),
                    Some(why) => Err(self.redact(&format!(
                        "the remote refused the push: {why}{}",
                        tail(&stderr)
                    ))),
                    None => Err(self.explain(&stderr)),
                }
            }
        }
    }

    fn open_local(&self, path: &Path) -> Result<Repository, String> {
        let other = Repository::open(path).map_err(|e| {
            if e.code() == git2::ErrorCode::NotFound {
                format!(
                    "no git repository at {} (create one with `git init --bare {}`)",
                    path.display(),
                    path.display()
                )
            } else {
                self.redact(e.message())
            }
        })?;
        if !other.is_bare() {
            return Err(format!(
                "{} is a repository with a working tree; push to a bare repository (`git init --bare`)",
                path.display()
            ));
        }
        Ok(other)
    }

    /// The URL handed to git: credentials never on its command line.
    fn wire_url(&self) -> String {
        match self.kind {
            Kind::Ssh => ssh_url_without_password(self.url),
            _ => crate::secret::url_without_credentials(self.url),
        }
    }

    /// `git -C store` with everything pinned that must not depend on the operator's config.
    fn git(&self, repo: &Repository) -> Command {
        let mut cmd = Command::new("git");
        let dir = repo.workdir().unwrap_or_else(|| repo.path());
        cmd.arg("-C").arg(dir);
        cmd.args([
            "-c",
            "protocol.allow=never",
            "-c",
            "protocol.ssh.allow=always",
            "-c",
            "protocol.https.allow=always",
            "-c",
            "protocol.http.allow=always",
            "-c",
            "protocol.file.allow=always",
            // A remote that stops answering fails the run instead of hanging it.
            "-c",
            "http.lowSpeedLimit=1",
            "-c",
            "http.lowSpeedTime=60",
        ]);
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .env("GIT_ASKPASS", "true")
            .env("SSH_ASKPASS", "true")
            .env_remove("NETORCH_BACKUP_PUSH")
            .env_remove(TOKEN_ENV)
            .stdin(std::process::Stdio::null());
        match self.kind {
            Kind::Ssh => {
                cmd.env("GIT_SSH_COMMAND", self.ssh_command())
                    .env("GIT_SSH_VARIANT", "ssh");
            }
            Kind::Http => {
                let (user, pass) = match crate::secret::url_credentials(self.url) {
                    Some((u, p)) if !p.is_empty() => (u.to_string(), p.to_string()),
                    Some((u, _)) => match &self.opts.token {
                        Some(t) => (u.to_string(), t.expose().to_string()),
                        // A lone user name in the URL is often the token itself.
                        None => (u.to_string(), String::new()),
                    },
                    None => match &self.opts.token {
                        Some(t) => (TOKEN_USER.to_string(), t.expose().to_string()),
                        None => (String::new(), String::new()),
                    },
                };
                if !pass.is_empty() && self.url.to_ascii_lowercase().starts_with("http://") {
                    let host = crate::secret::url_without_credentials(self.url);
                    let loopback = ["http://127.", "http://localhost", "http://[::1]"]
                        .iter()
                        .any(|p| host.starts_with(p));
                    if !loopback {
                        tracing::warn!(
                            "push to {}: the token is sent over plain HTTP; use https://",
                            self.shown
                        );
                    }
                }
                if !user.is_empty() || !pass.is_empty() {
                    // The empty value first clears the operator's own helpers, so a token
                    // is never saved by one of them.
                    cmd.args(["-c", "credential.helper=", "-c", GIT_ENV_CREDENTIAL_HELPER])
                        .env("NETORCH_GIT_USERNAME", user)
                        .env("NETORCH_GIT_PASSWORD", pass);
                }
            }
            Kind::Local(_) => {}
        }
        cmd
    }

    /// The ssh command git runs: host keys checked as netorch checks devices'.
    fn ssh_command(&self) -> String {
        let o = self.opts;
        let known = o
            .known_hosts_file
            .clone()
            .unwrap_or_else(crate::transport::default_known_hosts_file);
        let mut c = String::from("ssh -o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 -o ServerAliveCountMax=4");
        match o.host_key_checking {
            HostKeyChecking::Strict => {
                c.push_str(" -o StrictHostKeyChecking=yes");
                c.push_str(&format!(
                    " -o UserKnownHostsFile={}",
                    shell_quote(&known.display().to_string())
                ));
            }
            HostKeyChecking::AcceptNew => {
                c.push_str(" -o StrictHostKeyChecking=accept-new");
                c.push_str(&format!(
                    " -o UserKnownHostsFile={}",
                    shell_quote(&known.display().to_string())
                ));
            }
            HostKeyChecking::Off => {
                c.push_str(" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR");
            }
        }
        if let Some(k) = &o.ssh_key_file {
            c.push_str(&format!(
                " -i {} -o IdentitiesOnly=yes",
                shell_quote(&k.display().to_string())
            ));
        }
        c
    }

    fn output(&self, mut cmd: Command) -> Result<std::process::Output, String> {
        cmd.output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "the `git` program is needed for ssh and https remotes and was not found (install git)".to_string()
            } else {
                format!("running git: {e}")
            }
        })
    }

    fn run(&self, cmd: Command, what: &str) -> Result<(), String> {
        let out = self.output(cmd)?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!("{what}: {}", self.explain(&stderr)))
    }

    /// git's complaint, with a hint for the failures operators meet first.
    fn explain(&self, stderr: &str) -> String {
        let text = self.redact(stderr.trim());
        let text: String = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        let known = self
            .opts
            .known_hosts_file
            .clone()
            .unwrap_or_else(crate::transport::default_known_hosts_file);
        let hint = if text.contains("Host key verification failed")
            || text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        {
            format!(
                " (the server's SSH host key is not in {} or differs from it: check the key's fingerprint and add it, e.g. `ssh-keyscan -p PORT HOST >> {}`, or use --push-host-key-checking accept-new once)",
                known.display(),
                known.display()
            )
        } else if text.contains("Authentication failed")
            || text.contains("HTTP Basic: Access denied")
            || text.contains("The requested URL returned error: 401")
            || text.contains("The requested URL returned error: 403")
        {
            format!(
                " (the remote refused the credentials: check the token in {TOKEN_ENV} or --push-token-file)"
            )
        } else if text.contains("Permission denied (publickey") {
            " (the SSH key was refused: give one with --push-ssh-key or load it into the agent)"
                .to_string()
        } else {
            String::new()
        };
        if text.is_empty() {
            format!("git failed without a message{hint}")
        } else {
            format!("{text}{hint}")
        }
    }
}

/// A refused push's reason means the branch moved on the remote (retry after a rebase),
/// rather than a hook or a permission saying no (an error).
fn moved_on(why: &str) -> bool {
    why.contains("[rejected]")
        || why.contains("non-fast-forward")
        || why.contains("fetch first")
        || why.contains("cannot lock ref")
        || why.contains("failed to update ref")
        || why.contains("incorrect old value")
        || why.contains("but expected")
}

fn tail(stderr: &str) -> String {
    let t: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("To "))
        .collect();
    if t.is_empty() {
        String::new()
    } else {
        format!(" ({})", t.join("; "))
    }
}

fn ref_target(repo: &Repository, name: &str) -> Result<Option<Oid>, String> {
    match repo.find_reference(name) {
        Ok(r) => match r.resolve() {
            Ok(r) => Ok(r.target()),
            Err(e) => Err(e.message().to_string()),
        },
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.message().to_string()),
    }
}

/// Copy `tip` and everything it reaches that `to` lacks from `from` into `to`. An object is
/// written only after all it points to, so a copy cut short never leaves an object whose
/// history is missing: "exists" can then stop the walk.
fn copy_objects(from: &Repository, to: &Repository, tip: Oid) -> Result<(), git2::Error> {
    let dst = to.odb()?;
    if dst.exists(tip) {
        return Ok(());
    }
    // Commits to copy, newest first, stopping at ones the other side has.
    let mut commits = Vec::new();
    let mut boundary = Vec::new();
    let mut stack = vec![tip];
    let mut seen = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if dst.exists(id) {
            boundary.push(id);
            continue;
        }
        let c = from.find_commit(id)?;
        commits.push(id);
        stack.extend(c.parent_ids());
    }
    // Oldest first: parents before children.
    let order = topo_oldest_first(from, &commits, &boundary)?;
    for id in order {
        let c = from.find_commit(id)?;
        copy_tree(from, &dst, c.tree_id())?;
        copy_raw(from, &dst, id)?;
    }
    Ok(())
}

/// `commits` in topological order, oldest first; the walk stops at `boundary` (commits the
/// other side has), so a long history is not walked on every push.
fn topo_oldest_first(
    repo: &Repository,
    commits: &[Oid],
    boundary: &[Oid],
) -> Result<Vec<Oid>, git2::Error> {
    let wanted: std::collections::HashSet<Oid> = commits.iter().copied().collect();
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    for c in commits {
        walk.push(*c)?;
    }
    for b in boundary {
        walk.hide(*b)?;
    }
    let mut out = Vec::with_capacity(commits.len());
    for id in walk {
        let id = id?;
        if wanted.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn copy_tree(from: &Repository, dst: &git2::Odb<'_>, tree: Oid) -> Result<(), git2::Error> {
    if dst.exists(tree) {
        return Ok(());
    }
    let t = from.find_tree(tree)?;
    for e in t.iter() {
        match e.kind() {
            Some(ObjectType::Tree) => copy_tree(from, dst, e.id())?,
            Some(ObjectType::Blob) if !dst.exists(e.id()) => copy_raw(from, dst, e.id())?,
            // Submodule links (commits) are not objects of this repository.
            _ => {}
        }
    }
    copy_raw(from, dst, tree)
}

fn copy_raw(from: &Repository, dst: &git2::Odb<'_>, id: Oid) -> Result<(), git2::Error> {
    let src = from.odb()?;
    let obj = src.read(id)?;
    dst.write(obj.kind(), obj.data())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_map_to_their_transport_and_typos_are_refused() {
        let o = PushOptions::default();
        let k = |u: &str| Remote::parse(u, &o).map(|r| r.kind);
        assert_eq!(k("ssh://git@h/x.git"), Ok(Kind::Ssh));
        assert_eq!(k("git@github.com:org/configs.git"), Ok(Kind::Ssh));
        assert_eq!(k("https://h/x.git"), Ok(Kind::Http));
        assert_eq!(
            k("/srv/x.git"),
            Ok(Kind::Local(PathBuf::from("/srv/x.git")))
        );
        assert_eq!(k("rel/x.git"), Ok(Kind::Local(PathBuf::from("rel/x.git"))));
        assert_eq!(
            k("file:///srv/x.git"),
            Ok(Kind::Local(PathBuf::from("/srv/x.git")))
        );
        let e = k("htps://h/x.git").unwrap_err();
        assert!(
            e.contains("`htps://`") && e.contains("did you mean `https://`"),
            "{e}"
        );
        // git's `transport::address` form would run a command.
        assert!(k("ext::sh -c touch% /tmp/pwned").is_err());
        assert!(k("-oProxyCommand=touch%20x:y").is_err());
    }

    #[test]
    fn ssh_keeps_its_user_and_drops_a_password() {
        let o = PushOptions::default();
        let r = Remote::parse("ssh://backup:pw@h:2222/x.git", &o).unwrap();
        assert_eq!(r.wire_url(), "ssh://backup@h:2222/x.git");
        assert_eq!(r.shown, "ssh://backup@h:2222/x.git");
        let r = Remote::parse("https://bot:t0ken@h/x.git", &o).unwrap();
        assert_eq!(r.wire_url(), "https://h/x.git");
        assert!(!r.shown.contains("t0ken"));
        assert_eq!(
            r.redact("fatal: t0ken rejected"),
            "fatal: ******** rejected"
        );
    }

    #[test]
    fn ssh_command_pins_host_key_checking_and_quotes_paths() {
        let o = PushOptions {
            known_hosts_file: Some(PathBuf::from("/tmp/it's known")),
            ssh_key_file: Some(PathBuf::from("/k/id")),
            ..PushOptions::default()
        };
        let r = Remote::parse("ssh://h/x", &o).unwrap();
        let c = r.ssh_command();
        assert!(c.contains("StrictHostKeyChecking=yes"), "{c}");
        assert!(
            c.contains("UserKnownHostsFile='/tmp/it'\\''s known'"),
            "{c}"
        );
        assert!(c.contains("-i '/k/id' -o IdentitiesOnly=yes"), "{c}");
        assert!(c.contains("BatchMode=yes"), "{c}");
        let words = shlex::split(&c).unwrap();
        assert!(words.contains(&"UserKnownHostsFile=/tmp/it's known".to_string()));
    }

    #[test]
    fn refusals_that_mean_the_branch_moved() {
        assert!(moved_on("[rejected] (fetch first)"));
        assert!(moved_on(
            "[remote rejected] (cannot lock ref 'refs/heads/main': is at a but expected b)"
        ));
        assert!(!moved_on("[remote rejected] (pre-receive hook declined)"));
    }
}
