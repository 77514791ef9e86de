//! Where vault passwords come from, as Ansible reads them: a file (surrounding whitespace
//! stripped), an executable that prints the password (a `*-client` script is asked for its
//! label with `--vault-id LABEL`), or a prompt on the terminal without echo.

use std::path::Path;

use super::{Keyring, VaultSecret, DEFAULT_ID};
use crate::secret::Secret;

/// What the vault options of a command gave.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `--vault-id [LABEL@]SOURCE` (SOURCE: a file, an executable, or `prompt`).
    pub vault_ids: Vec<String>,
    /// `--vault-password-file FILE` (label `default`).
    pub password_files: Vec<String>,
    /// `--ask-vault-pass` (label `default`).
    pub ask: bool,
}

/// Read every password the options name, in Ansible's order: the vault ids, then the
/// password files, then the prompt.
pub fn keyring(sources: &Sources) -> Result<Keyring, String> {
    let mut ids: Vec<(String, String)> = sources.vault_ids.iter().map(|s| split_id(s)).collect();
    for f in &sources.password_files {
        ids.push((DEFAULT_ID.to_string(), f.clone()));
    }
    if sources.ask {
        ids.push((DEFAULT_ID.to_string(), "prompt".to_string()));
    }
    let mut out = Keyring::default();
    for (label, source) in ids {
        let password = match source.as_str() {
            "prompt" | "prompt_ask_vault_pass" => prompt(&label)?,
            file => from_file(&label, Path::new(file))?,
        };
        out.secrets.push(VaultSecret { label, password });
    }
    Ok(out)
}

/// `LABEL@SOURCE`, or a bare SOURCE for the `default` label.
fn split_id(spec: &str) -> (String, String) {
    match spec.split_once('@') {
        Some((label, source)) if !label.is_empty() => (label.to_string(), source.to_string()),
        Some((_, source)) => (DEFAULT_ID.to_string(), source.to_string()),
        None => (DEFAULT_ID.to_string(), spec.to_string()),
    }
}

fn from_file(label: &str, path: &Path) -> Result<Secret, String> {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("vault password file {shown}: cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err(format!("vault password file {shown}: not a regular file"));
    }
    let password = if meta.permissions().mode() & 0o111 != 0 {
        run_script(label, path)?
    } else {
        let bytes = crate::source::read_bounded(path, 64 * 1024)
            .map_err(|e| format!("vault password file {shown}: {}", e.message))?;
        String::from_utf8(bytes)
            .map_err(|_| format!("vault password file {shown}: not UTF-8 text"))?
            .trim()
            .to_string()
    };
    if password.is_empty() {
        return Err(format!(
            "vault password file {shown}: the password is empty"
        ));
    }
    Ok(Secret::new(password))
}

/// Run a password script: its standard output (line ending stripped) is the password.
fn run_script(label: &str, path: &Path) -> Result<String, String> {
    let shown = path.display();
    let client = path
        .file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s.ends_with("-client"));
    // A bare name (`pw.sh`) is the file here, as Ansible reads it, not a PATH lookup.
    let program = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut cmd = std::process::Command::new(program);
    if client {
        cmd.args(["--vault-id", label]);
    }
    let out = cmd
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("vault password script {shown}: cannot run it: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "vault password script {shown} failed ({}); its output is not used",
            out.status
        ));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| format!("vault password script {shown}: printed no UTF-8 text"))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

/// Ask on the terminal, without echo.
fn prompt(label: &str) -> Result<Secret, String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(
            "--ask-vault-pass (or a `prompt` vault id) needs a terminal, and standard input \
             is not one; give the password with --vault-password-file FILE instead"
                .into(),
        );
    }
    let question = if label == DEFAULT_ID {
        "Vault password: ".to_string()
    } else {
        format!("Vault password ({label}): ")
    };
    let mut err = std::io::stderr();
    let _ = err.write_all(question.as_bytes());
    let _ = err.flush();
    let saved = rustix::termios::tcgetattr(&stdin).ok();
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_modes -= rustix::termios::LocalModes::ECHO;
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(t) = &saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, t);
    }
    let _ = err.write_all(b"\n");
    read.map_err(|e| format!("cannot read the vault password: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err("the vault password is empty".into());
    }
    Ok(Secret::new(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_files_and_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("pw.txt");
        std::fs::write(&plain, "  file-pw \n").unwrap();
        let script = dir.path().join("pw-client.sh");
        std::fs::write(&script, "#!/bin/sh\necho \"script-pw-$2\"\n").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let k = keyring(&Sources {
            vault_ids: vec![format!("prod@{}", script.display())],
            password_files: vec![plain.display().to_string()],
            ask: false,
        })
        .unwrap();
        let got: Vec<(&str, &str)> = k
            .secrets
            .iter()
            .map(|s| (s.label.as_str(), s.password.expose()))
            .collect();
        assert_eq!(got, [("prod", "script-pw-prod"), ("default", "file-pw")]);
        assert_eq!(split_id("x"), ("default".into(), "x".into()));
        assert_eq!(split_id("@x"), ("default".into(), "x".into()));
        let e = keyring(&Sources {
            password_files: vec!["/nonexistent/pw".into()],
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("/nonexistent/pw"), "{e}");
    }
}
