fn main() -> std::process::ExitCode {
    rollcheck::cli::main()
}
