//! `mlcost tags`: print the required tag set for a new resource in the format infrastructure
//! code wants, or check an existing tag map; violations of the config's required keys and
//! allowed values exit 1.

use super::Outcome;
use crate::cli::{TagsAction, TagsArgs, TagsOutput};
use crate::config::LoadedConfig;
use crate::error::{Error, ExitStatus, Result};
use crate::tags::{self, TagNormaliser};

pub fn run(args: &TagsArgs, ctx: &crate::context::Context) -> Result<Outcome> {
    let user = ctx.user.as_deref();
    let loaded = LoadedConfig::load(args.config.as_deref())?;
    let tagger = TagNormaliser::new(&loaded.config.tags);
    let (pairs, source) = match &args.action {
        Some(TagsAction::Check { file }) => {
            let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
                path: file.clone(),
                source,
            })?;
            let pairs = tags::parse_tag_map(&text).ok_or_else(|| Error::Ingest {
                path: file.clone(),
                message: "not a JSON object of tags nor a Terraform map of `key = \"value\"` lines"
                    .into(),
                hint: Some(
                    "write the tags as {\"team\": \"recsys\", ...} or tags = { team = \"recsys\" }"
                        .into(),
                ),
            })?;
            (pairs, Some(file.display().to_string()))
        }
        None => {
            let team = args.team.clone().unwrap_or_default();
            let created_by = args
                .created_by
                .clone()
                .or_else(|| user.map(str::to_string))
                .unwrap_or_else(|| "mlcost".into());
            let pairs = vec![
                ("team".to_string(), team.clone()),
                (
                    "project".to_string(),
                    args.project.clone().unwrap_or_default(),
                ),
                (
                    "model_id".to_string(),
                    args.model_id.clone().unwrap_or_default(),
                ),
                (
                    "environment".to_string(),
                    args.environment.clone().unwrap_or_default(),
                ),
                (
                    "cost_center".to_string(),
                    args.cost_center
                        .clone()
                        .unwrap_or_else(|| format!("eng-{team}")),
                ),
                (
                    "lifecycle_phase".to_string(),
                    args.lifecycle_phase.clone().unwrap_or_default(),
                ),
                ("created_by".to_string(), created_by),
                ("managed_by".to_string(), args.managed_by.clone()),
            ];
            (pairs, None)
        }
    };
    let set = tagger.from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))));
    let problems: Vec<String> = tagger.problems(&set).iter().map(|p| p.code()).collect();
    let stderr = if problems.is_empty() {
        String::new()
    } else {
        format!(
            "error: {} violates the tag policy: {}\n",
            source.as_deref().unwrap_or("the tag set"),
            problems.join(", ")
        )
    };
    let status = match problems.is_empty() {
        true => ExitStatus::Success,
        false => ExitStatus::Rejected,
    };
    let stdout = match (&args.action, args.output) {
        (Some(_), _) => {
            if problems.is_empty() {
                format!(
                    "ok: {} tags, every required key present and allowed\n",
                    pairs.len()
                )
            } else {
                String::new()
            }
        }
        (None, TagsOutput::Json) => tags::render_json(&pairs),
        (None, TagsOutput::Terraform) => tags::render_terraform(&pairs),
        (None, TagsOutput::AwsCli) => tags::render_aws_cli(&pairs),
    };
    Ok(Outcome {
        stdout,
        stderr,
        status,
    })
}
