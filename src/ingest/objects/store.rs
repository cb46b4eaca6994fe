//! One bucket's client: the URI parsed into its store and key, and the store built from each
//! cloud's own configuration (environment variables, AWS profiles, instance and workload
//! identity), with timeouts and retries bounded so a silent server ends the run with an error.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::{ClientConfigKey, ObjectStore, RetryConfig};

use crate::error::{Error, Result};

/// The object stores mlcost reads, by URI scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    S3,
    Gcs,
    Azure,
}

/// A bucket URI taken apart: `root` names the bucket (`s3://bucket`), `key` the object or
/// prefix inside it, without a leading `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    pub cloud: Cloud,
    pub root: String,
    pub key: String,
}

impl Uri {
    /// The URI of `key` in the same bucket.
    pub fn child(&self, key: &str) -> String {
        format!("{}/{key}", self.root)
    }
}

/// The schemes `parse` accepts, for messages.
pub const SCHEMES: &str = "s3://, gs://, az:// or abfss://";

/// Whether `arg` names an object-store location rather than a local path.
pub fn is_uri(arg: &str) -> bool {
    scheme(arg).is_some()
}

fn scheme(arg: &str) -> Option<Cloud> {
    let (scheme, _) = arg.split_once("://")?;
    match scheme.to_ascii_lowercase().as_str() {
        "s3" | "s3a" => Some(Cloud::S3),
        "gs" => Some(Cloud::Gcs),
        "az" | "azure" | "abfs" | "abfss" => Some(Cloud::Azure),
        _ => None,
    }
}

/// Takes a bucket URI apart; `az://` needs `AZURE_STORAGE_ACCOUNT_NAME`, `abfss://` names its
/// account (`abfss://container@account.dfs.core.windows.net/key`).
pub fn parse(arg: &str) -> Result<Uri> {
    let bad = |message: &str| {
        Error::Usage {
        message: format!("`{arg}` is not a bucket URI: {message}"),
        hint: Some(format!(
            "write it as {SCHEMES} followed by the bucket (or container) and the key or prefix, e.g. `s3://my-bucket/cur/2026-11/`"
        )),
    }
    };
    let cloud = scheme(arg).ok_or_else(|| bad("unknown scheme"))?;
    let (scheme, rest) = arg.split_once("://").ok_or_else(|| bad("no `://`"))?;
    let (host, key) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() {
        return Err(bad("no bucket"));
    }
    if host.contains(['?', '#']) || key.contains(['?', '#']) {
        return Err(bad("a query or fragment is not part of an object key"));
    }
    // object_store names keys by their segments: `a//b` would silently become `a/b`, another key
    if key.trim_start_matches('/').contains("//")
        || key.split('/').any(|s| s == "." || s == "..")
        || key.chars().any(char::is_control)
    {
        return Err(bad(
            "an empty, `.` or `..` folder, or a control character, in the key cannot be read through object_store",
        ));
    }
    Ok(Uri {
        cloud,
        root: format!("{}://{host}", scheme.to_ascii_lowercase()),
        key: key.trim_start_matches('/').to_string(),
    })
}

/// The longest a single request may take (`MLCOST_OBJECT_STORE_TIMEOUT`, seconds; 60 by
/// default) and how many times a failed request is tried again (`MLCOST_OBJECT_STORE_RETRIES`,
/// 3 by default).
struct Limits {
    timeout: Duration,
    retries: usize,
}

impl Limits {
    fn from_env() -> Result<Limits> {
        let number = |name: &str, default: u64, max: u64| -> Result<u64> {
            match std::env::var(name) {
                Ok(v) if v.trim().is_empty() => Ok(default),
                Ok(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= max)
                    .ok_or_else(|| Error::Usage {
                        message: format!("{name}=`{v}` is not a whole number from 0 to {max}"),
                        hint: Some(format!("set {name} to a whole number, e.g. {default}")),
                    }),
                Err(_) => Ok(default),
            }
        };
        Ok(Limits {
            // a day per request and a hundred retries are far past any real need
            timeout: Duration::from_secs(number("MLCOST_OBJECT_STORE_TIMEOUT", 60, 86_400)?.max(1)),
            retries: number("MLCOST_OBJECT_STORE_RETRIES", 3, 100)? as usize,
        })
    }

    fn retry(&self) -> RetryConfig {
        RetryConfig {
            max_retries: self.retries,
            // every try may take the whole timeout; the retries add their backoff on top
            retry_timeout: self.timeout.saturating_mul(self.retries as u32 + 1),
            backoff: Default::default(),
        }
    }

    fn client(&self) -> [(ClientConfigKey, String); 2] {
        let secs = self.timeout.as_secs();
        [
            (ClientConfigKey::Timeout, format!("{secs}s")),
            (
                ClientConfigKey::ConnectTimeout,
                format!("{}s", secs.min(10)),
            ),
        ]
    }
}

/// Checks the endpoint variables the clouds' SDKs read, which object_store would panic on
/// when they are not a URL with a scheme and a host.
fn check_endpoints() -> Result<()> {
    const VARS: [&str; 5] = [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_STS",
        "AZURITE_BLOB_STORAGE_URL",
    ];
    for name in VARS {
        let Ok(value) = std::env::var(name) else {
            continue;
        };
        let ok = url::Url::parse(&value).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        }) && value == value.trim();
        if !ok {
            return Err(Error::Usage {
                message: format!(
                    "{name}=`{}` is not an http:// or https:// URL",
                    super::redact(&value)
                ),
                hint: Some(format!(
                    "write it with its scheme and host, e.g. {name}=http://127.0.0.1:9000"
                )),
            });
        }
    }
    Ok(())
}

/// The client of `uri`'s bucket, configured the way the cloud's own tools are.
pub fn open(uri: &Uri) -> Result<Arc<dyn ObjectStore>> {
    let limits = Limits::from_env()?;
    check_endpoints()?;
    let built = match uri.cloud {
        Cloud::S3 => {
            let mut b = AmazonS3Builder::from_env()
                .with_url(&uri.root)
                .with_retry(limits.retry());
            for (k, v) in limits.client() {
                b = b.with_config(AmazonS3ConfigKey::Client(k), v);
            }
            if let Some(p) = super::profile::from_files()? {
                b = p.apply(b);
            }
            if std::env::var_os("AWS_REGION").is_none()
                && std::env::var_os("AWS_DEFAULT_REGION").is_none()
                && b.get_config_value(&AmazonS3ConfigKey::Region).is_none()
            {
                // the SDKs' default when nothing names a region
                b = b.with_region("us-east-1");
            }
            b.build().map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        }
        Cloud::Gcs => {
            let mut b = GoogleCloudStorageBuilder::from_env()
                .with_url(&uri.root)
                .with_retry(limits.retry());
            for (k, v) in limits.client() {
                b = b.with_config(GoogleConfigKey::Client(k), v);
            }
            b.build().map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        }
        Cloud::Azure => {
            let mut b = MicrosoftAzureBuilder::from_env()
                .with_url(&uri.root)
                .with_retry(limits.retry());
            for (k, v) in limits.client() {
                b = b.with_config(AzureConfigKey::Client(k), v);
            }
            b.build().map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        }
    };
    built.map_err(|e| Error::Remote {
        uri: uri.root.clone(),
        message: format!("cannot set up the client: {}", super::redact(&e.to_string())),
        hint: Some(match uri.cloud {
            Cloud::S3 => "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run where an instance or web identity role applies), AWS_REGION, and AWS_ENDPOINT_URL for an S3-compatible server".into(),
            Cloud::Gcs => "set GOOGLE_APPLICATION_CREDENTIALS to a service account or `gcloud auth application-default login` file, or run where workload identity applies".into(),
            Cloud::Azure => "set AZURE_STORAGE_ACCOUNT_NAME (for az://) and a credential: AZURE_STORAGE_ACCOUNT_KEY, a service principal (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID), AZURE_USE_AZURE_CLI=true, or a managed or workload identity".into(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_come_apart_into_bucket_and_key() {
        let u = parse("s3://bucket/cur/2026-11/part.csv.gz").unwrap();
        assert_eq!((u.cloud, u.root.as_str()), (Cloud::S3, "s3://bucket"));
        assert_eq!(u.key, "cur/2026-11/part.csv.gz");
        assert_eq!(u.child("x"), "s3://bucket/x");
        assert_eq!(parse("gs://b").unwrap().key, "");
        let a = parse("abfss://exports@acct.dfs.core.windows.net/cost/").unwrap();
        assert_eq!(
            (a.cloud, a.root.as_str(), a.key.as_str()),
            (
                Cloud::Azure,
                "abfss://exports@acct.dfs.core.windows.net",
                "cost/"
            )
        );
        assert!(is_uri("AZ://c/k") && !is_uri("exports/s3.csv") && !is_uri("http://x/y"));
        for bad in [
            "s3:///key",
            "s3://",
            "s3://b/k?versionId=1",
            "s3://b/a//b/",
            "s3://b/a/../b",
            "s3://b/a\tb",
        ] {
            assert!(matches!(parse(bad), Err(Error::Usage { .. })), "{bad}");
        }
    }
}
