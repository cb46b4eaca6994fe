//! AWS named profiles: the static keys of `AWS_PROFILE` (or `default`) in the shared
//! credentials file and its region in the shared config file, which `object_store` does not
//! read itself. Used only when no key, web identity or container credential is in the
//! environment; profiles that sign in through SSO, a role or a process are refused with the
//! command that exports their keys. The files are INI (`[section]`, `key = value`): twenty lines
//! read them, a crate would add nothing.

use std::path::PathBuf;

use object_store::aws::AmazonS3Builder;

use crate::error::{Error, Result};

/// The static credentials and region of one profile.
pub struct Profile {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: Option<String>,
}

impl Profile {
    pub fn apply(self, b: AmazonS3Builder) -> AmazonS3Builder {
        super::keep_secret(&self.secret_access_key);
        if let Some(t) = &self.session_token {
            super::keep_secret(t);
        }
        let mut b = b
            .with_access_key_id(self.access_key_id)
            .with_secret_access_key(self.secret_access_key);
        if let Some(t) = self.session_token {
            b = b.with_token(t);
        }
        let region_set = std::env::var_os("AWS_REGION").is_some()
            || std::env::var_os("AWS_DEFAULT_REGION").is_some();
        match self.region {
            Some(r) if !region_set => b.with_region(r),
            _ => b,
        }
    }
}

/// The profile to sign with, when the environment names no other credential.
pub fn from_files() -> Result<Option<Profile>> {
    let env_has = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if env_has("AWS_ACCESS_KEY_ID")
        || env_has("AWS_WEB_IDENTITY_TOKEN_FILE")
        || env_has("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        || env_has("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    {
        return Ok(None);
    }
    let named = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    let name = named.clone().unwrap_or_else(|| "default".into());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, rel: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(rel)))
    };
    let read = |p: Option<PathBuf>| p.and_then(|p| std::fs::read_to_string(p).ok());
    let credentials = read(file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"));
    let config = read(file("AWS_CONFIG_FILE", ".aws/config"));
    let key = |text: &Option<String>, section: &str, k: &str| {
        text.as_deref().and_then(|t| value(t, section, k))
    };
    let config_section = match name.as_str() {
        "default" => "default".to_string(),
        n => format!("profile {n}"),
    };
    let pick = |k: &str| key(&credentials, &name, k).or_else(|| key(&config, &config_section, k));
    match (pick("aws_access_key_id"), pick("aws_secret_access_key")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(Profile {
            access_key_id,
            secret_access_key,
            session_token: pick("aws_session_token"),
            region: key(&config, &config_section, "region"),
        })),
        // no profile asked for and none with keys: the instance or pod role may apply
        _ if named.is_none() => Ok(None),
        _ => Err(Error::Usage {
            message: format!("AWS_PROFILE=`{name}` has no static keys in the shared credentials or config file"),
            hint: Some(format!("profiles that sign in through SSO, a role or a process are not read by mlcost: export their keys first with `eval \"$(aws configure export-credentials --profile {name} --format env)\"`")),
        }),
    }
}

/// The value of `key` in `[section]` of an INI text; comments (`#`, `;`) and blank lines are
/// skipped, names compare without case.
fn value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
            continue;
        }
        if !current.eq_ignore_ascii_case(section) {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim().eq_ignore_ascii_case(key) {
                return Some(v.trim().to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_values_are_found_in_their_section_only() {
        let text = "# c\n[default]\naws_access_key_id = AKIA1\n\n[profile ml]\nregion=eu-west-1\n; x\naws_access_key_id=AKIA2\n";
        assert_eq!(
            value(text, "default", "aws_access_key_id").as_deref(),
            Some("AKIA1")
        );
        assert_eq!(
            value(text, "profile ml", "AWS_ACCESS_KEY_ID").as_deref(),
            Some("AKIA2")
        );
        assert_eq!(
            value(text, "profile ml", "region").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(value(text, "default", "region"), None);
        assert_eq!(value(text, "missing", "region"), None);
    }
}
