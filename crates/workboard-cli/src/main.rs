//! `workboard`: sign in to WorkBoard, use its MCP tools, generate and lint AI-client configs,
//! diagnose problems, and run a local WorkBoard simulator. Run `workboard --help`.

mod app;
mod cmd_auth;
mod cmd_bridge;
mod cmd_config;
mod cmd_demo;
mod cmd_doctor;
mod cmd_mcp;
mod input;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = app::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let json = cli.json;
    match runtime.block_on(app::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::print_error(&e, json);
            ExitCode::from(e.exit_code())
        }
    }
}
