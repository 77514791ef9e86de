//! Authentication: password, keyboard-interactive, ssh-agent and key files, tried in the
//! order the host's settings give, with one clear message naming what was tried.

use super::*;

/// Answers keyboard-interactive prompts: the password for anything that does not echo or
/// asks for a password, an empty line otherwise.
struct PasswordPrompter<'a>(&'a str);

impl KeyboardInteractivePrompt for PasswordPrompter<'_> {
    fn prompt<'b>(
        &mut self,
        _user: &str,
        _instructions: &str,
        prompts: &[Prompt<'b>],
    ) -> Vec<String> {
        prompts
            .iter()
            .map(|p| {
                if !p.echo || p.text.to_ascii_lowercase().contains("password") {
                    self.0.to_string()
                } else {
                    String::new()
                }
            })
            .collect()
    }
}

/// Try every credential of one user with every configured method the server offers.
/// Returns the label of the set that worked.
pub(super) fn authenticate(
    ctx: &Ctx<'_>,
    session: &Session,
    t: &Endpoint,
    user: &str,
    group: &[&Credential],
    tried: &mut Vec<String>,
    server_methods: &mut Option<String>,
) -> Option<String> {
    let offered = match session.auth_methods(user) {
        Ok(m) => m.to_string(),
        Err(_) if session.authenticated() => return group.first().map(|c| c.label.clone()),
        Err(e) => {
            tried.push(format!("{user}: (server closed: {})", e.message()));
            return None;
        }
    };
    if session.authenticated() {
        return group.first().map(|c| c.label.clone());
    }
    *server_methods = Some(offered.clone());
    let tried_before = tried.len();
    let offers = |m: AuthMethod| offered.split(',').any(|o| o.trim() == m.protocol_name());
    let mut agent_tried = false;
    for cred in group {
        for &m in &ctx.settings.auth_methods {
            if !offers(m) {
                continue;
            }
            let outcome: Option<Result<(), String>> = match m {
                AuthMethod::Agent => {
                    let socket = ctx
                        .settings
                        .agent_socket
                        .clone()
                        .or_else(|| std::env::var_os("SSH_AUTH_SOCK").map(Into::into));
                    match socket {
                        Some(sock) if !agent_tried => {
                            agent_tried = true;
                            Some(agent_auth(session, user, &sock))
                        }
                        _ => None,
                    }
                }
                AuthMethod::PublicKey => cred.private_key_file.as_ref().map(|k| {
                    key_auth(
                        session,
                        user,
                        k,
                        cred.private_key_passphrase.as_ref().map(|p| p.expose()),
                    )
                }),
                AuthMethod::KeyboardInteractive => cred.password.as_ref().map(|p| {
                    session
                        .userauth_keyboard_interactive(user, &mut PasswordPrompter(p.expose()))
                        .map_err(|e| e.message().to_string())
                }),
                AuthMethod::Password => cred.password.as_ref().map(|p| {
                    session
                        .userauth_password(user, p.expose())
                        .map_err(|e| e.message().to_string())
                }),
            };
            let Some(outcome) = outcome else { continue };
            let what = match m {
                AuthMethod::Agent => format!("{user}: agent"),
                AuthMethod::PublicKey => format!(
                    "{user}: publickey {}",
                    cred.private_key_file
                        .as_deref()
                        .map(Path::display)
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                ),
                _ => format!("{user}: {}", m.as_str()),
            };
            match outcome {
                Ok(()) if session.authenticated() => {
                    ctx.opts.log(&t.name, || format!("{what}: accepted"));
                    return Some(cred.label.clone());
                }
                Ok(()) => tried.push(format!("{what} (partial success; more factors required)")),
                Err(why) => {
                    ctx.opts
                        .log(&t.name, || format!("{what}: rejected ({why})"));
                    tried.push(format!("{what} (rejected)"));
                }
            }
        }
    }
    if tried.len() == tried_before {
        let mut have = Vec::new();
        if group.iter().any(|c| c.password.is_some()) {
            have.push("a password");
        }
        if group.iter().any(|c| c.private_key_file.is_some()) {
            have.push("a key file");
        }
        let have = if have.is_empty() {
            "no password, key file or agent".to_string()
        } else {
            format!(
                "have {}; allowed auth_methods: {}",
                have.join(" and "),
                ctx.settings
                    .auth_methods
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        tried.push(format!("{user}: nothing the server accepts ({have})"));
    }
    None
}

fn agent_auth(session: &Session, user: &str, socket: &Path) -> Result<(), String> {
    let mut agent = session.agent().map_err(|e| e.message().to_string())?;
    agent
        .set_identity_path(socket)
        .map_err(|e| format!("agent socket {}: {}", socket.display(), e.message()))?;
    agent
        .connect()
        .map_err(|e| format!("agent: {}", e.message()))?;
    agent
        .list_identities()
        .map_err(|e| format!("agent: {}", e.message()))?;
    let ids = agent.identities().map_err(|e| e.message().to_string())?;
    for id in &ids {
        if agent.userauth(user, id).is_ok() {
            let _ = agent.disconnect();
            return Ok(());
        }
    }
    let _ = agent.disconnect();
    Err(format!(
        "none of the agent's {} keys was accepted",
        ids.len()
    ))
}

fn key_auth(
    session: &Session,
    user: &str,
    key: &Path,
    passphrase: Option<&str>,
) -> Result<(), String> {
    if !key.exists() {
        return Err(format!("key file {} not found", key.display()));
    }
    session
        .userauth_pubkey_file(user, None, key, passphrase)
        .map_err(|e| e.message().to_string())
}
