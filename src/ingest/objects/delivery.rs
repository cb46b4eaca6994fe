//! AWS delivery manifests: which objects of a CUR or Data Exports folder are the month's
//! current delivery. A CUR manifest (`<report>-Manifest.json`, `reportKeys`) names the keys
//! of the current assembly of its month folder; a Data Exports manifest (`dataFiles`) names
//! the URIs of the current files of its `BILLING_PERIOD=` folder. Objects in such a folder that
//! the manifest does not name belong to an earlier delivery of the month and are left out, so
//! a restated month replaces the earlier one instead of adding to it.

use std::collections::BTreeSet;

/// One delivery manifest: where it is and the keys of the files it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryManifest {
    pub key: String,
    pub files: Vec<String>,
    /// The buckets its `dataFiles` URIs name (Data Exports), for a warning when not this one.
    pub buckets: Vec<String>,
}

/// Reads a manifest's JSON; `None` when it is not one (no `reportKeys` nor `dataFiles`).
/// `dataFiles` hold URIs (`s3://bucket/key`): the bucket is dropped, keeping the key.
pub fn parse(bytes: &[u8], key: &str) -> Option<DeliveryManifest> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        report_keys: Option<Vec<String>>,
        data_files: Option<Vec<String>>,
    }
    let raw: Raw = serde_json::from_slice(bytes).ok()?;
    let mut buckets = Vec::new();
    let files = match (raw.report_keys, raw.data_files) {
        (Some(keys), _) => keys,
        (None, Some(uris)) => uris
            .into_iter()
            .map(|u| match u.split_once("://") {
                Some((_, rest)) => {
                    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                    if !buckets.iter().any(|b| b == bucket) {
                        buckets.push(bucket.to_string());
                    }
                    key.to_string()
                }
                None => u,
            })
            .collect(),
        (None, None) => return None,
    };
    let files = files
        .into_iter()
        .map(|f| f.trim_start_matches('/').to_string())
        .collect();
    Some(DeliveryManifest {
        key: key.to_string(),
        files,
        buckets,
    })
}

/// Whether an object's name says it is a delivery manifest (read to find out).
pub fn may_be_manifest(key: &str) -> bool {
    key.to_ascii_lowercase().ends_with("manifest.json")
}

/// The data objects to read and those left out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Current {
    pub keep: Vec<String>,
    /// Objects of earlier deliveries, with the manifest that replaced them.
    pub left_out: Vec<(String, String)>,
    /// Files a manifest names that are not there, with that manifest.
    pub missing: Vec<(String, String)>,
}

/// The folder a manifest speaks for, for one file it names: the file's `BILLING_PERIOD=`
/// folder (Data Exports), else the folder the manifest is in (CUR's month folder).
fn scope(manifest: &str, file: &str) -> String {
    let mut prefix = String::new();
    for segment in file.split('/') {
        prefix.push_str(segment);
        prefix.push('/');
        if segment.to_ascii_lowercase().starts_with("billing_period=") {
            return prefix;
        }
    }
    match manifest.rfind('/') {
        Some(i) => manifest[..=i].to_string(),
        None => String::new(),
    }
}

/// Splits the listed `data` objects into the current delivery and the rest. A manifest inside a
/// folder another manifest already speaks for (CUR's copy in the assembly folder) adds nothing.
pub fn current(data: &[String], manifests: &[DeliveryManifest]) -> Current {
    let mut ordered: Vec<(BTreeSet<String>, &DeliveryManifest)> = manifests
        .iter()
        .map(|m| {
            let mut scopes: BTreeSet<String> = m.files.iter().map(|f| scope(&m.key, f)).collect();
            if scopes.is_empty() {
                scopes.insert(scope(&m.key, ""));
            }
            (scopes, m)
        })
        .collect();
    // the widest folders first, so the copies inside them are recognised as copies
    ordered.sort_by_key(|(s, m)| (s.iter().map(String::len).min(), m.key.clone()));
    let mut chosen: Vec<(String, &DeliveryManifest)> = Vec::new();
    for (scopes, m) in ordered {
        let inside = |s: &String| chosen.iter().any(|(c, _)| s.starts_with(c.as_str()));
        if scopes.iter().all(inside) {
            continue;
        }
        chosen.extend(scopes.into_iter().map(|s| (s, m)));
    }
    let listed: BTreeSet<&str> = data.iter().map(String::as_str).collect();
    let mut out = Current::default();
    for key in data {
        let owners: Vec<&DeliveryManifest> = chosen
            .iter()
            .filter(|(s, _)| key.starts_with(s.as_str()))
            .map(|(_, m)| *m)
            .collect();
        match owners.first() {
            None => out.keep.push(key.clone()),
            Some(_) if owners.iter().any(|m| m.files.contains(key)) => out.keep.push(key.clone()),
            Some(m) => out.left_out.push((key.clone(), m.key.clone())),
        }
    }
    let mut seen = BTreeSet::new();
    for (_, m) in &chosen {
        if !seen.insert(m.key.clone()) {
            continue;
        }
        for f in &m.files {
            if !listed.contains(f.as_str()) {
                out.missing.push((f.clone(), m.key.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_cur_month_folder_keeps_the_assembly_its_manifest_names() {
        let month = "cur/rep/20261101-20261201";
        let month_manifest = parse(
            format!(r#"{{"assemblyId":"b","reportKeys":["{month}/b/rep-1.csv.gz","{month}/b/rep-2.csv.gz"]}}"#).as_bytes(),
            &format!("{month}/rep-Manifest.json"),
        )
        .unwrap();
        // the copy of the old assembly's manifest in its own folder names the old files
        let old_copy = parse(
            format!(r#"{{"assemblyId":"a","reportKeys":["{month}/a/rep-1.csv.gz"]}}"#).as_bytes(),
            &format!("{month}/a/rep-Manifest.json"),
        )
        .unwrap();
        let other = "cur/rep/20261001-20261101/x/rep-1.csv.gz".to_string();
        let data = keys(&[
            &format!("{month}/a/rep-1.csv.gz"),
            &format!("{month}/b/rep-1.csv.gz"),
            &format!("{month}/b/rep-2.csv.gz"),
            &other,
        ]);
        let got = current(&data, &[old_copy, month_manifest.clone()]);
        assert_eq!(got.keep, [data[1].clone(), data[2].clone(), other]);
        assert_eq!(
            got.left_out,
            [(data[0].clone(), month_manifest.key.clone())]
        );
        assert!(got.missing.is_empty());
    }

    #[test]
    fn a_data_exports_period_keeps_its_current_files_and_names_a_missing_one() {
        let m = parse(
            br#"{"dataFiles":["s3://b/de/exp/data/BILLING_PERIOD=2026-11/exp-00001.snappy.parquet","s3://b/de/exp/data/BILLING_PERIOD=2026-11/exp-00002.snappy.parquet"]}"#,
            "de/exp/metadata/BILLING_PERIOD=2026-11/exp-Manifest.json",
        )
        .unwrap();
        let data = keys(&[
            "de/exp/data/BILLING_PERIOD=2026-10/exp-00001.snappy.parquet",
            "de/exp/data/BILLING_PERIOD=2026-11/exp-00001.snappy.parquet",
            "de/exp/data/BILLING_PERIOD=2026-11/old-run/exp-00001.snappy.parquet",
        ]);
        let got = current(&data, std::slice::from_ref(&m));
        assert_eq!(got.keep, [data[0].clone(), data[1].clone()]);
        assert_eq!(got.left_out, [(data[2].clone(), m.key.clone())]);
        assert_eq!(
            got.missing,
            [(
                "de/exp/data/BILLING_PERIOD=2026-11/exp-00002.snappy.parquet".to_string(),
                m.key
            )]
        );
    }

    #[test]
    fn json_that_is_not_a_manifest_is_not_one() {
        assert_eq!(parse(br#"{"reconciliation":{}}"#, "m.json"), None);
        assert_eq!(parse(b"[1,2]", "m.json"), None);
        assert!(may_be_manifest("x/rep-Manifest.json") && !may_be_manifest("x/rows.json"));
    }
}
