//! Command line: arguments, exit codes, and where output goes.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diagnostic::Severity;
use crate::lint::{Options, lint_inputs};
use crate::load::{DEFAULT_MAX_FILE_SIZE, LoadOptions, build_excludes, discover};
use crate::report::{Format, render_human, render_json};
use crate::rules;

#[derive(Parser, Debug)]
#[command(
    name = "rollcheck",
    version,
    about = "Lint Argo Rollouts manifests: wiring, analysis and strategy problems, before `kubectl apply`."
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Files and directories to lint (`-` reads standard input). Directories are searched for
    /// *.yaml, *.yml and *.json, honouring .gitignore. Default: the current directory.
    paths: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,

    /// Exit with 1 when a finding has this severity or a higher one.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: Severity,

    /// Namespace of objects that do not set `metadata.namespace`.
    #[arg(long, short = 'n', default_value = "default")]
    namespace: String,

    /// Skip files and directories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,

    /// Refuse files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,

    /// Never colour the output (colour is used only on a terminal, and never when NO_COLOR is set).
    #[arg(long)]
    no_color: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every rule with its default severity and summary.
    Rules,
    /// Print the documentation of a rule.
    Explain {
        /// A rule id, e.g. `service-selects-no-pods`.
        rule: String,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Some(Command::Rules) => print_rules(),
        Some(Command::Explain { ref rule }) => explain(rule),
        None => run(cli),
    }
}

fn print_rules() -> ExitCode {
    let mut out = String::new();
    let width = rules::ALL.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in rules::ALL {
        out.push_str(&format!("{:width$}  {:7}  {}\n", r.id, r.severity.as_str(), r.summary));
    }
    write_stdout(&out)
}

fn explain(id: &str) -> ExitCode {
    match rules::find(id) {
        Some(rule) => write_stdout(rule.doc),
        None => {
            let suggestion = crate::diagnostic::did_you_mean(id, rules::ALL.iter().map(|r| r.id));
            let hint = suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            eprintln!("rollcheck: unknown rule `{id}`{hint} (`rollcheck rules` lists them)");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    let excludes = match build_excludes(&cli.exclude) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("rollcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let paths = if cli.paths.is_empty() { vec![".".to_string()] } else { cli.paths.clone() };
    let (inputs, mut io_errors) = discover(&paths, &excludes);
    let options = Options { namespace: cli.namespace.clone(), load: LoadOptions { max_file_size: cli.max_file_size } };
    let outcome = lint_inputs(&inputs, &options);
    io_errors.extend(outcome.io_errors.iter().cloned());
    let color = !cli.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let text = match cli.format {
        Format::Human => render_human(&outcome, color),
        Format::Json => render_json(&outcome),
    };
    for e in &io_errors {
        eprintln!("rollcheck: {}: {}", e.path, e.message);
    }
    let written = write_stdout(&text);
    if !io_errors.is_empty() || written != ExitCode::SUCCESS {
        return ExitCode::from(2);
    }
    if outcome.diagnostics.iter().any(|d| d.severity >= cli.fail_on) { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

fn write_stdout(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`rollcheck | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rollcheck: cannot write output: {e}");
            ExitCode::from(2)
        }
    }
}
