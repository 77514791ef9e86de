//! Events -> output. The executor sends [`Event`]s over a channel to one [`Reporter`], the
//! only place in netorch that formats results, so output never interleaves and secrets are
//! masked in one place. It prints a line per host per task (and a progress bar on a
//! terminal), the recap at the end, and builds the [`RunReport`] for `--json` / `--junit`.
//! With [`Layout::Hosts`] (`netorch exec`) it prints a block per host instead: a header,
//! then each command and its whole output, and a one-line summary at the end.

pub mod junit;
pub mod merge;
mod records;
pub use records::records_table;
pub mod result;

use std::io::{IsTerminal, Write};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

pub use result::{
    CommandOutput, HostStats, HostTaskResult, PlayReport, RunReport, Status, TaskReport, TaskResult,
};

use crate::secret::Redactor;

/// What the executor tells the reporter.
#[derive(Debug, Clone)]
pub enum Event {
    PlayStart {
        name: String,
        hosts: Vec<String>,
    },
    TaskStart {
        name: String,
        location: String,
        hosts: usize,
    },
    HostResult {
        host: String,
        task: String,
        location: String,
        result: Box<TaskResult>,
    },
    /// Something the user should know that is not a result (a pattern matching nothing,
    /// host key checking off).
    Warning(String),
    /// Secret values learned while preparing hosts (rendered passwords); sent before any
    /// result that could contain them, so the reporter can mask them.
    Secrets(Vec<String>),
    /// A file transfer's progress on one host: `done` of `total` bytes (sent a few times a
    /// second, and once with `finished`).
    Transfer {
        host: String,
        done: u64,
        total: u64,
        finished: bool,
    },
}

/// How results are laid out on a terminal (the JSON document is the same for both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// PLAY and TASK headers, a line per host under each task, command output with -v, the
    /// recap table at the end (`run`, `backup`, `push`, `pull`).
    #[default]
    Tasks,
    /// A block per host and task result: `host [platform] status (time)`, then each command
    /// and its whole output; a summary line at the end (`exec`).
    Hosts,
    /// Nothing printed: the command shows the returned report its own way (`compliance`).
    Quiet,
}

/// How the run is shown.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub verbose: u8,
    /// `--json`: nothing but the JSON document goes to stdout.
    pub json: bool,
    /// `--diff`: show diffs.
    pub diff: bool,
    /// Force color off (also off when stdout is not a terminal or NO_COLOR is set).
    pub no_color: bool,
    pub layout: Layout,
    /// Each host's platform, for the headers of [`Layout::Hosts`].
    pub platforms: std::collections::BTreeMap<String, String>,
}

/// Turns events into terminal output and the final [`RunReport`].
pub struct Reporter {
    opts: ReportOptions,
    redactor: Redactor,
    report: RunReport,
    color: bool,
    progress: Option<ProgressBar>,
    started: Instant,
    out: Box<dyn Write + Send>,
    /// Transfers running now: host -> (done, total), for the byte progress bar.
    transfers: std::collections::BTreeMap<String, (u64, u64)>,
    transfer_bar: Option<ProgressBar>,
}

impl Reporter {
    pub fn new(opts: ReportOptions, redactor: Redactor, report: RunReport) -> Self {
        let tty = std::io::stdout().is_terminal();
        let color = tty && !opts.no_color && std::env::var_os("NO_COLOR").is_none() && !opts.json;
        Reporter {
            progress: None,
            color,
            opts,
            redactor,
            report,
            started: Instant::now(),
            out: Box::new(std::io::stdout()),
            transfers: std::collections::BTreeMap::new(),
            transfer_bar: None,
        }
    }

    /// Send the human-readable output somewhere else (tests).
    pub fn with_output(mut self, out: Box<dyn Write + Send>) -> Self {
        self.out = out;
        self.color = false;
        self
    }

    fn human(&self) -> bool {
        !self.opts.json && self.opts.layout != Layout::Quiet
    }

    /// Play and task headers and per-task lines (not in the per-host layout).
    fn task_view(&self) -> bool {
        self.human() && self.opts.layout == Layout::Tasks
    }

    fn line(&mut self, text: &str) {
        if !self.human() {
            return;
        }
        let text = self.redactor.redact(text).into_owned();
        match &self.progress {
            Some(pb) => pb.suspend(|| {
                let _ = writeln!(self.out, "{text}");
            }),
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }

    fn paint(&self, s: &str, status: Status) -> String {
        if !self.color {
            return s.to_string();
        }
        let code = match status {
            Status::Ok => "32",
            Status::Changed => "33",
            Status::Skipped => "36",
            Status::Failed | Status::Unreachable => "31",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }

    fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn handle(&mut self, event: Event) {
        match event {
            Event::PlayStart { name, hosts } => {
                self.finish_progress();
                if self.task_view() {
                    let title = self.bold(&format!("PLAY {name}"));
                    self.line(&format!("\n{title} [{} hosts]", hosts.len()));
                }
                self.report.plays.push(PlayReport {
                    name,
                    hosts,
                    tasks: Vec::new(),
                });
            }
            Event::TaskStart {
                name,
                location,
                hosts,
            } => {
                self.finish_progress();
                if self.task_view() {
                    let title = self.bold(&format!("TASK {name}"));
                    self.line(&title);
                }
                if let Some(play) = self.report.plays.last_mut() {
                    play.tasks.push(TaskReport {
                        name: name.clone(),
                        location,
                        hosts: Vec::with_capacity(hosts),
                    });
                }
                if self.human() && hosts > 1 && std::io::stderr().is_terminal() {
                    let pb = ProgressBar::new(hosts as u64);
                    if let Ok(style) =
                        ProgressStyle::with_template("  {bar:30} {pos}/{len} hosts {elapsed}")
                    {
                        pb.set_style(style);
                    }
                    self.progress = Some(pb);
                }
            }
            Event::HostResult {
                host,
                task,
                location,
                result,
            } => {
                let mut result = *result;
                result.redact(&self.redactor);
                if self.human() {
                    // Device text is escaped for the terminal only; JSON keeps it as data
                    // (and JSON escapes control characters itself).
                    let shown = result.terminal_safe();
                    match self.opts.layout {
                        Layout::Tasks => self.print_result(&host, &shown),
                        Layout::Hosts => self.print_host_block(&host, &shown),
                        Layout::Quiet => {}
                    }
                }
                if let Some(pb) = &self.progress {
                    pb.inc(1);
                }
                self.report
                    .stats
                    .entry(host.clone())
                    .or_default()
                    .add(&result);
                let entry = HostTaskResult { host, result };
                match self
                    .report
                    .plays
                    .last_mut()
                    .and_then(|p| p.tasks.last_mut())
                {
                    Some(t) if t.name == task && t.location == location => t.hosts.push(entry),
                    _ => {
                        // Free strategy and handlers: results arrive out of task order.
                        if let Some(play) = self.report.plays.last_mut() {
                            match play
                                .tasks
                                .iter_mut()
                                .find(|t| t.name == task && t.location == location)
                            {
                                Some(t) => t.hosts.push(entry),
                                None => play.tasks.push(TaskReport {
                                    name: task,
                                    location,
                                    hosts: vec![entry],
                                }),
                            }
                        }
                    }
                }
            }
            Event::Transfer {
                host,
                done,
                total,
                finished,
            } => self.transfer_progress(host, done, total, finished),
            Event::Secrets(values) => {
                for v in values {
                    self.redactor.add(&v);
                }
            }
            Event::Warning(w) => {
                let w = self.redactor.redact(&w).into_owned();
                let safe = crate::terminal::escape(&w);
                if self.human() {
                    let text = if self.color {
                        format!("\x1b[35mwarning:\x1b[0m {safe}")
                    } else {
                        format!("warning: {safe}")
                    };
                    self.line(&text);
                } else {
                    eprintln!("warning: {safe}");
                }
                self.report.warnings.push(w);
            }
        }
    }

    fn print_result(&mut self, host: &str, r: &TaskResult) {
        if !self.human() {
            return;
        }
        let mut label = r.status.as_str().to_string();
        if r.ignored {
            label = "ignored".into();
        } else if r.rescued {
            label = "rescued".into();
        }
        let status = self.paint(&format!("{label:<11}"), r.status);
        let secs = r.duration_ms as f64 / 1000.0;
        let mut text = format!("  {status} {host} ({secs:.2}s)");
        if r.attempts > 1 {
            text.push_str(&format!(" after {} attempts", r.attempts));
        }
        let show_msg = r.status.is_failure()
            || r.status == Status::Skipped && self.opts.verbose > 0
            || r.data.get("debug").is_some()
            || (r.msg.is_some() && self.opts.verbose > 0);
        if let Some(msg) = r.msg.as_deref().filter(|_| show_msg) {
            let mut lines = msg.lines();
            if let Some(first) = lines.next() {
                text.push_str(": ");
                text.push_str(first);
            }
            for l in lines {
                text.push_str("\n      ");
                text.push_str(l);
            }
        }
        if let Some(debug) = r.data.get("debug") {
            push_debug(&mut text, debug);
        }
        if self.opts.verbose > 0 || r.status == Status::Failed {
            for c in &r.commands {
                if self.opts.verbose == 0 && c.error.is_none() {
                    continue;
                }
                text.push_str(&format!("\n      $ {}", c.command));
                for l in c.output.lines() {
                    text.push_str("\n      ");
                    text.push_str(l);
                }
            }
        }
        self.push_changes(&mut text, r, "      ");
        // A loop's own result carries no lines: each item has its label, its pending lines
        // in check mode and its diff, shown when there is something to show (or with -v).
        for item in &r.items {
            // `debug` in a loop prints each item's message, as Ansible does.
            if let Some(debug) = item.data.get("debug").filter(|_| self.opts.verbose == 0) {
                push_debug(&mut text, debug);
                continue;
            }
            let mut changes = String::new();
            self.push_changes(&mut changes, item, "        ");
            if changes.is_empty() && self.opts.verbose == 0 {
                continue;
            }
            let label = item.data.get("label").and_then(|l| l.as_str());
            text.push_str(&format!(
                "\n      item{}: {}{}",
                label.map(|l| format!(" {l}")).unwrap_or_default(),
                item.status.as_str(),
                item.msg
                    .as_deref()
                    .filter(|_| self.opts.verbose > 0 || item.status.is_failure())
                    .map(|m| format!(" {m}"))
                    .unwrap_or_default()
            ));
            text.push_str(&changes);
        }
        self.line(&text);
    }

    /// The lines a change brings: what check mode would send, and the diff with `--diff`.
    fn push_changes(&self, text: &mut String, r: &TaskResult, indent: &str) {
        if let Some(pending) = r.data.get("pending").and_then(|p| p.as_array()) {
            if !pending.is_empty() {
                text.push_str(&format!("\n{indent}would send:"));
                for l in pending {
                    text.push_str(&format!("\n{indent}  "));
                    text.push_str(l.as_str().unwrap_or_default());
                }
            }
        }
        if self.opts.diff {
            if let Some(diff) = &r.diff {
                for l in diff.lines() {
                    let painted = if !self.color {
                        l.to_string()
                    } else if l.starts_with('+') && !l.starts_with("+++") {
                        format!("\x1b[32m{l}\x1b[0m")
                    } else if l.starts_with('-') && !l.starts_with("---") {
                        format!("\x1b[31m{l}\x1b[0m")
                    } else {
                        l.to_string()
                    };
                    text.push('\n');
                    text.push_str(indent);
                    text.push_str(&painted);
                }
            }
        }
    }

    /// [`Layout::Hosts`]: `host [platform] status (time)`, then each command and its whole
    /// output, then the reason of a failure or skip.
    fn print_host_block(&mut self, host: &str, r: &TaskResult) {
        if !self.human() {
            return;
        }
        let label = if r.ignored {
            "ignored"
        } else {
            r.status.as_str()
        };
        let mut text = self.bold(host);
        if let Some(p) = self.opts.platforms.get(host) {
            text.push_str(&format!(" [{p}]"));
        }
        let secs = r.duration_ms as f64 / 1000.0;
        text.push_str(&format!(" {} ({secs:.2}s)", self.paint(label, r.status)));
        for c in &r.commands {
            // The executor's pseudo-command for output received before a session error.
            if c.command.starts_with('(') {
                text.push_str(&format!("\n  {}", c.command));
            } else {
                let mark = if c.error.is_some() {
                    " (failed)"
                } else if r.status == Status::Skipped && c.output.is_empty() {
                    " (not run)"
                } else {
                    ""
                };
                text.push_str(&format!("\n  $ {}{mark}", c.command));
            }
            // Parsed output reads as a table; -v shows the device's text as well.
            let table = c.parsed.as_ref().map(records_table);
            if table.is_none() || self.opts.verbose > 0 {
                for l in c.output.lines() {
                    text.push_str("\n  ");
                    text.push_str(l);
                }
            }
            for l in table.iter().flat_map(|t| t.lines()) {
                text.push_str("\n  ");
                text.push_str(l);
            }
        }
        // A rejected command's reason is the device text just shown as its output.
        let said = r
            .commands
            .last()
            .and_then(|c| c.error.as_deref())
            .is_some_and(|e| r.msg.as_deref().is_some_and(|m| m.ends_with(e)));
        let show_msg =
            !said && (r.status != Status::Ok || self.opts.verbose > 0 || r.commands.is_empty());
        if let Some(msg) = r.msg.as_deref().filter(|_| show_msg) {
            let word = if r.status.is_failure() {
                "error"
            } else {
                "note"
            };
            let mut lines = msg.lines();
            text.push_str(&format!("\n  {word}: {}", lines.next().unwrap_or_default()));
            for l in lines {
                text.push_str("\n    ");
                text.push_str(l);
            }
        }
        self.line(&text);
    }

    fn finish_progress(&mut self) {
        if let Some(pb) = self.progress.take() {
            pb.finish_and_clear();
        }
        if let Some(pb) = self.transfer_bar.take() {
            pb.finish_and_clear();
        }
        self.transfers.clear();
    }

    /// Bytes, rate and ETA over all hosts, with the hosts still sending and the slowest
    /// one's share, on a terminal only.
    fn transfer_progress(&mut self, host: String, done: u64, total: u64, finished: bool) {
        if !self.human() || !std::io::stderr().is_terminal() {
            return;
        }
        let entry = self.transfers.entry(host).or_insert((0, 0));
        *entry = (done, total.max(done));
        let all_done: u64 = self.transfers.values().map(|v| v.0).sum();
        let all_total: u64 = self.transfers.values().map(|v| v.1).sum();
        let pb = self.transfer_bar.get_or_insert_with(|| {
            let pb = ProgressBar::new(all_total);
            if let Ok(style) = ProgressStyle::with_template(
                "  {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            ) {
                pb.set_style(style);
            }
            pb
        });
        pb.set_length(all_total);
        pb.set_position(all_done);
        let running: Vec<(&String, &(u64, u64))> =
            self.transfers.iter().filter(|(_, (d, t))| d < t).collect();
        let msg = match running
            .iter()
            .min_by_key(|(_, (d, t))| d.saturating_mul(1000) / (*t).max(1))
        {
            Some((h, (d, t))) => format!(
                "{} sending; slowest {h} {}%",
                running.len(),
                d.saturating_mul(100) / (*t).max(1)
            ),
            None => String::new(),
        };
        pb.set_message(msg);
        let _ = finished;
    }

    /// What masks secrets in the output (the inventory's, and those the run met).
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The report being built, for results gathered after the executor (the backup
    /// writer's commits) that belong in the JSON document.
    pub fn report_mut(&mut self) -> &mut RunReport {
        &mut self.report
    }

    /// Print the recap (or the JSON document) and return the report.
    pub fn finish(mut self, interrupted: bool) -> RunReport {
        self.finish_progress();
        self.report.duration_ms = self.started.elapsed().as_millis() as u64;
        self.report.interrupted = interrupted;
        // Names are kept as sent while results arrive (they are matched on); the report
        // leaves here masked, for `--junit` too (an `exec` task is named after its commands).
        for play in &mut self.report.plays {
            play.name = self.redactor.redact(&play.name).into_owned();
            for task in &mut play.tasks {
                task.name = self.redactor.redact(&task.name).into_owned();
            }
        }
        if self.opts.layout == Layout::Quiet {
        } else if self.opts.json {
            let _ = write_json(&self.report, &self.redactor, &mut self.out);
        } else {
            let recap = match self.opts.layout {
                Layout::Tasks => self.recap(),
                Layout::Hosts => format!("{}\n", self.summary()),
                Layout::Quiet => String::new(),
            };
            let _ = write!(self.out, "{recap}");
        }
        let _ = self.out.flush();
        self.report
    }

    fn recap(&self) -> String {
        let stats = &self.report.stats;
        let w = stats.keys().map(String::len).max().unwrap_or(4).max(4);
        // The rescued column shows only in runs where a block's rescue took a failure.
        let rescues = stats.values().any(|s| s.rescued > 0);
        let mut out = format!(
            "\n{}\n{:w$}  {:>5} {:>8} {:>7} {:>8} {:>12}{} {:>8}\n",
            self.bold("RECAP"),
            "HOST",
            "ok",
            "changed",
            "failed",
            "skipped",
            "unreachable",
            if rescues { "  rescued" } else { "" },
            "time"
        );
        for (host, s) in stats {
            let worst = if s.unreachable > 0 {
                Status::Unreachable
            } else if s.failed > 0 {
                Status::Failed
            } else if s.changed > 0 {
                Status::Changed
            } else {
                Status::Ok
            };
            let name = self.paint(&format!("{host:w$}"), worst);
            let rescued = if rescues {
                format!(" {:>8}", s.rescued)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{name}  {:>5} {:>8} {:>7} {:>8} {:>12}{rescued} {:>7.2}s\n",
                s.ok,
                s.changed,
                s.failed,
                s.skipped,
                s.unreachable,
                s.duration_ms as f64 / 1000.0
            ));
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// `N hosts, M with failures, T s`: the recap's last line.
    fn summary(&self) -> String {
        let total = self.report.duration_ms as f64 / 1000.0;
        let failed = self.report.failed_hosts().len();
        format!(
            "{} hosts, {failed} with failures, {total:.2}s{}",
            self.report.stats.len(),
            if self.report.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        )
    }
}

/// A `debug` message under its host's line: text as is, other values as indented JSON.
/// The report as pretty JSON with a final newline, every secret the run met masked,
/// written as it is made: at 10,000 hosts the document is ~200 MB, and it is never whole in
/// memory.
pub fn write_json<W: Write>(report: &RunReport, redactor: &Redactor, out: W) -> std::io::Result<W> {
    let mut w = crate::secret::MaskingWriter::new(out, redactor);
    serde_json::to_writer_pretty(&mut w, report)?;
    w.write_all(b"\n")?;
    w.finish()
}

fn push_debug(text: &mut String, debug: &serde_json::Value) {
    let shown = match debug {
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    for l in shown.lines() {
        text.push_str("\n      ");
        text.push_str(l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// One play, one task named `task` on r1 and r2 with these results, `s3cr3t!` a known
    /// secret: what was printed and the report.
    fn report_of(opts: ReportOptions, task: &str, results: [TaskResult; 2]) -> (String, RunReport) {
        let buf = Buf::default();
        let mut red = Redactor::new();
        red.add("s3cr3t!");
        let mut rep = Reporter::new(opts, red, RunReport::new(vec!["p.yml".into()], false))
            .with_output(Box::new(buf.clone()));
        rep.handle(Event::PlayStart {
            name: "p".into(),
            hosts: vec!["r1".into(), "r2".into()],
        });
        rep.handle(Event::TaskStart {
            name: task.into(),
            location: "p.yml:3".into(),
            hosts: 2,
        });
        for (host, result) in ["r1", "r2"].into_iter().zip(results) {
            rep.handle(Event::HostResult {
                host: host.into(),
                task: task.into(),
                location: "p.yml:3".into(),
                result: Box::new(result),
            });
        }
        let report = rep.finish(false);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        (text, report)
    }

    #[test]
    fn recap_and_secrets() {
        let opts = ReportOptions {
            verbose: 1,
            ..Default::default()
        };
        let (text, report) = report_of(
            opts,
            "t",
            [
                TaskResult::changed(),
                TaskResult::failed("bad password s3cr3t!"),
            ],
        );
        assert!(!text.contains("s3cr3t!"), "{text}");
        assert!(text.contains("failed      r2"), "{text}");
        assert!(text.contains("2 hosts, 1 with failures"), "{text}");
        assert_eq!(report.plays[0].tasks[0].hosts.len(), 2);
        assert_eq!(report.stats["r1"].changed, 1);
        assert_eq!(report.exit_code(), crate::ExitCode::HostFailed);
    }

    #[test]
    fn hosts_layout_shows_each_command_and_its_output() {
        let opts = ReportOptions {
            layout: Layout::Hosts,
            platforms: [("r1".to_string(), "cisco_ios".to_string())].into(),
            ..Default::default()
        };
        let mut ok = TaskResult::ok();
        ok.commands.push(CommandOutput {
            command: "show clock".into(),
            output: "10:00 UTC\nsecret s3cr3t!".into(),
            exit_status: None,
            error: None,
            parsed: None,
        });
        let down = TaskResult::unreachable("r2: connection refused");
        let (text, report) = report_of(opts, "show s3cr3t!", [ok, down]);
        assert!(!text.contains("s3cr3t!"), "{text}");
        assert!(!text.contains("TASK") && !text.contains("RECAP"), "{text}");
        assert!(
            text.contains("r1 [cisco_ios] ok (0.00s)\n  $ show clock\n  10:00 UTC\n"),
            "{text}"
        );
        assert!(
            text.contains("r2 unreachable (0.00s)\n  error: r2: connection refused"),
            "{text}"
        );
        assert!(
            text.ends_with("2 hosts, 1 with failures, 0.00s\n"),
            "{text}"
        );
        assert_eq!(report.exit_code(), crate::ExitCode::HostUnreachable);
        // The task's name (exec names it after its commands) is masked for --junit too.
        assert_eq!(report.plays[0].tasks.len(), 1);
        assert!(!report.plays[0].tasks[0].name.contains("s3cr3t!"));
    }
}
