//! Entry point: dispatch on argv[0] and hand over to a face.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
