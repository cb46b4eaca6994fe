//! `mlcost init`: writes the commented starter config.

use crate::cli::InitArgs;
use crate::config::STARTER;
use crate::error::{Error, Result};

fn write_starter(args: &InitArgs) -> Result<String> {
    if args.path.exists() && !args.force {
        return Err(Error::Usage {
            message: format!("`{}` already exists", args.path.display()),
            hint: Some("pass `--force` to overwrite it".into()),
        });
    }
    std::fs::write(&args.path, STARTER).map_err(|source| Error::Write {
        path: args.path.clone(),
        source,
    })?;
    Ok(format!("wrote {}", args.path.display()))
}

pub fn run(args: &InitArgs, ctx: &crate::context::Context) -> Result<super::Outcome> {
    use super::Outcome;
    write_starter(args).map(|text| Outcome::stderr(ctx.say(text + "\n")))
}
