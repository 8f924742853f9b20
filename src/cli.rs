//! Command line: arguments, exit codes, and where output goes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::baseline::Baseline;
use crate::config::{self, Config, ConfigError};
use crate::diagnostic::Severity;
use crate::lint::{Options, Retention, lint_plan};
use crate::load::{DEFAULT_MAX_FILE_SIZE, LoadOptions, build_excludes, discover, find};
use crate::report::Format;
use crate::rules;
use crate::schema::Registry;
use crate::settings::KubeVersion;
use crate::unit;

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

    /// Output format: human, json, compact, sarif, github or junit. `FORMAT=FILE` writes that
    /// format to a file; repeat for several outputs from one run.
    #[arg(long, value_name = "FORMAT[=FILE]", default_value = "human")]
    format: Vec<String>,

    /// Write the output (the format given without `=FILE`) to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Exit with 1 when a finding has this severity or a higher one [default: error].
    #[arg(long, value_enum)]
    fail_on: Option<Severity>,

    /// Namespace of objects that do not set `metadata.namespace` [default: the config's, or `default`].
    #[arg(long, short = 'n')]
    namespace: Option<String>,

    /// The Kubernetes version the manifests are applied to, e.g. `1.29`: API versions it no
    /// longer serves are errors [default: the config's `kube-version`, or 1.33].
    #[arg(long, value_name = "VERSION", value_parser = parse_kube_version)]
    kube_version: Option<KubeVersion>,

    /// Skip files and directories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,

    /// Load these files or directories only to resolve references; report nothing in them
    /// (repeatable). For pre-commit hooks that pass only the changed files.
    #[arg(long, value_name = "PATH")]
    context: Vec<String>,

    /// Check objects of a custom resource against this CRD's schema (repeatable).
    #[arg(long, value_name = "FILE")]
    crd: Vec<PathBuf>,

    /// Read settings from this file instead of the nearest `.rollcheck.yaml`.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,

    /// Ignore `.rollcheck.yaml` files.
    #[arg(long)]
    no_config: bool,

    /// Report only findings that this baseline file does not record.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Record every current finding in this baseline file, and exit 0.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,

    /// Refuse files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,

    /// Lint every file as it is: do not render Helm charts or build kustomizations.
    #[arg(long)]
    no_render: bool,

    /// The helm binary that renders charts [default: the config's `tools: {helm}`, else `helm` on PATH].
    #[arg(long, value_name = "BIN")]
    helm: Option<PathBuf>,

    /// The kustomize binary that builds kustomizations [default: the config's `tools:`, else
    /// `kustomize` on PATH, else `kubectl kustomize`].
    #[arg(long, value_name = "BIN")]
    kustomize: Option<PathBuf>,

    /// A values file for every chart rendered in this run (repeatable).
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    values: Vec<PathBuf>,

    /// For `helm template ... | rollcheck -`: the chart folder, so that findings are reported on
    /// its templates (the `# Source:` paths).
    #[arg(long, value_name = "DIR")]
    chart_dir: Option<PathBuf>,

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
    /// Run the language server on standard input and output, for editors.
    Lsp,
    /// Benchmark baseline: build the files' YAML trees as manifests are read, and nothing
    /// else (one thread); `--events` counts granit-parser's events instead.
    #[command(hide = true)]
    ParseOnly {
        paths: Vec<PathBuf>,
        #[arg(long)]
        events: bool,
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
        Some(Command::Lsp) => crate::lsp::run(),
        Some(Command::ParseOnly { ref paths, events }) => parse_only(paths, events),
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

fn parse_only(paths: &[PathBuf], events: bool) -> ExitCode {
    let mut count = 0usize;
    for path in paths {
        match std::fs::read_to_string(path) {
            Ok(text) if events => count += crate::yaml::count_events(&text),
            Ok(text) => count += crate::yaml::count_nodes(std::sync::Arc::from(text)),
            Err(e) => return fail(format!("{}: {e}", path.display())),
        }
    }
    write_stdout(&format!("{count} {}\n", if events { "events" } else { "nodes" }))
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

/// A usage, config or I/O problem that stops the run (exit code 2).
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("rollcheck: {message}");
    ExitCode::from(2)
}

fn run(cli: Cli) -> ExitCode {
    let outputs = match outputs(&cli) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let config = match load_config(&cli) {
        Ok(mut c) => {
            c.kube_version = cli.kube_version.or(c.kube_version);
            Arc::new(c)
        }
        Err(errors) => {
            for e in errors {
                eprintln!("rollcheck: {e}");
            }
            return ExitCode::from(2);
        }
    };
    let anchored: Vec<(String, PathBuf)> = config.exclude.iter().map(|g| (g.clone(), config.absolute_base())).collect();
    let excludes = match build_excludes(&cli.exclude, &anchored) {
        Ok(set) => set,
        Err(e) => return fail(e),
    };
    let baseline = match &cli.baseline {
        Some(path) => {
            match std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|t| Baseline::parse(&t, path)) {
                Ok(b) => Some(b),
                Err(e) => return fail(format!("{}: {e}", path.display())),
            }
        }
        None => None,
    };
    let mut schemas = Registry::default();
    for path in cli.crd.iter().chain(&config.crds) {
        let added = std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|text| schemas.add_crds(&text));
        if let Err(e) = added {
            return fail(format!("{}: {e}", path.display()));
        }
    }
    let paths = if cli.paths.is_empty() { vec![".".to_string()] } else { cli.paths.clone() };
    let render = !cli.no_render;
    let (found, stdin, mut io_errors) = find(&paths, &excludes, render);
    for arg in paths.iter().filter(|a| *a != "-") {
        let path = std::path::Path::new(arg);
        let any = found.walked.iter().chain(&found.named).any(|f| f.starts_with(path));
        if !any && path.exists() {
            eprintln!(
                "rollcheck: nothing to lint under `{arg}`: no *.yaml, *.yml or *.json file that .gitignore and the excludes leave"
            );
        }
    }
    let context_paths: Vec<String> =
        cli.context.iter().cloned().chain(config.context.iter().map(|p| p.display().to_string())).collect();
    let (context, context_errors) = discover(&context_paths, &excludes);
    io_errors.extend(context_errors);
    let namespace = cli.namespace.clone().or_else(|| config.namespace.clone()).unwrap_or_else(|| "default".into());
    let fail_on = cli.fail_on.or(config.fail_on).unwrap_or(Severity::Error);
    let options = Options {
        namespace,
        load: LoadOptions { max_file_size: cli.max_file_size },
        config: config.clone(),
        baseline,
        schemas: Arc::new(schemas),
        retention: Retention::Facts,
        context_causes: true,
    };
    let settings = unit::Settings {
        render,
        tools: unit::Tools {
            helm: cli.helm.clone().or_else(|| config.tools.helm.clone()),
            kustomize: cli.kustomize.clone().or_else(|| config.tools.kustomize.clone()),
            kubectl: config.tools.kubectl.clone(),
        },
        values: cli.values.clone(),
        charts: config.charts.clone(),
        limits: unit::Limits { network: config.render_network, ..Default::default() },
    };
    let mut plan = unit::plan(&found, &settings);
    if stdin {
        plan.stdin = true;
    }
    plan.chart_dir = cli.chart_dir.clone();
    let mut outcome = lint_plan(&plan, &settings, &context, &options);
    // Reporters read only the sources: free the trees before rendering.
    for f in &mut outcome.files {
        f.documents = Vec::new();
    }
    crate::lint::release_free_memory();
    io_errors.extend(outcome.io_errors.iter().cloned());
    for e in &io_errors {
        eprintln!("rollcheck: {}: {}", e.path, e.message);
    }
    if let Some(path) = &cli.write_baseline {
        let text = crate::baseline::write(&outcome.diagnostics, &outcome.files, path);
        if let Err(e) = std::fs::write(path, text) {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
        eprintln!("rollcheck: recorded {} findings in {}", outcome.diagnostics.len(), path.display());
        return if io_errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
    }
    let terminal = std::io::stdout().is_terminal();
    let mut status = ExitCode::SUCCESS;
    for (format, target) in outputs {
        let color = target.is_none() && terminal && !cli.no_color && std::env::var_os("NO_COLOR").is_none();
        let written = match target {
            None => write_stdout_with(|out| format.write(&outcome, color, out)),
            Some(path) => {
                let written = std::fs::File::create(&path)
                    .and_then(|f| format.write(&outcome, color, &mut std::io::BufWriter::new(f)));
                match written {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(format!("cannot write {}: {e}", path.display())),
                }
            }
        };
        if written != ExitCode::SUCCESS {
            status = written;
        }
    }
    let failed = outcome.diagnostics.iter().any(|d| d.severity >= fail_on);
    // The process ends here: freeing every finding one by one would only delay the exit. (The
    // sources are dropped: a spooled stdin is deleted with its source.)
    std::mem::forget(std::mem::take(&mut outcome.diagnostics));
    if !io_errors.is_empty() || status != ExitCode::SUCCESS {
        return ExitCode::from(2);
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// The requested outputs: each format with its file, `None` for stdout (or `--output`).
fn outputs(cli: &Cli) -> Result<Vec<(Format, Option<PathBuf>)>, String> {
    let mut out = Vec::new();
    let mut plain = 0;
    for spec in &cli.format {
        let (name, file) = match spec.split_once('=') {
            Some((name, file)) if !file.is_empty() => (name, Some(PathBuf::from(file))),
            Some((name, _)) => return Err(format!("`--format {name}=` needs a file name after `=`")),
            None => (spec.as_str(), None),
        };
        let format = Format::from_str(name, true).map_err(|_| {
            let names =
                Format::value_variants().iter().filter_map(|f| f.to_possible_value()).map(|v| v.get_name().to_string());
            format!("unknown format `{name}` (expected one of: {})", names.collect::<Vec<_>>().join(", "))
        })?;
        if file.is_none() {
            plain += 1;
        }
        out.push((format, file.or_else(|| cli.output.clone())));
    }
    if plain > 1 {
        return Err("several formats would share one output: give each a file with `FORMAT=FILE`".into());
    }
    let mut seen: Vec<(PathBuf, String)> = Vec::new();
    for (format, file) in &out {
        let Some(file) = file else { continue };
        let name = format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
        let absolute = crate::paths::absolute(file);
        if let Some((_, other)) = seen.iter().find(|(p, _)| *p == absolute) {
            return Err(format!(
                "`{other}` and `{name}` would both be written to {}: give each format its own file",
                file.display()
            ));
        }
        seen.push((absolute, name));
    }
    Ok(out)
}

fn parse_kube_version(text: &str) -> Result<KubeVersion, String> {
    KubeVersion::parse(text).ok_or_else(|| format!("`{text}` is not a Kubernetes version such as 1.33"))
}

fn load_config(cli: &Cli) -> Result<Config, Vec<ConfigError>> {
    if cli.no_config {
        return Ok(Config::default());
    }
    let path = match &cli.config {
        Some(p) => Some(p.clone()),
        None => std::env::current_dir().ok().and_then(|d| config::discover(&d)),
    };
    match path {
        Some(p) => config::load(&p),
        None => Ok(Config::default()),
    }
}

fn write_stdout(text: &str) -> ExitCode {
    write_stdout_with(|out| out.write_all(text.as_bytes()))
}

fn write_stdout_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> ExitCode {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match write(&mut out).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`rollcheck | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rollcheck: cannot write output: {e}");
            ExitCode::from(2)
        }
    }
}
