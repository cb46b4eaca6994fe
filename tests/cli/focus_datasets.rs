//! Issue #21: FOCUS 1.3 and 1.4 export folders as delivered (tests/fixtures/focus/v1_3 and
//! v1_4, hand totals in tests/fixtures/focus/README.md): every dataset recognised, only Cost
//! and Usage counted as spend, invoices reconciled, provisional months made final, commitments
//! made visible.

use mlcost::money::Money;

use crate::util::*;

/// Copies a fixture folder into the test's temp dir, changing `from` to `to` in `file`.
fn folder_with(env: &TestEnv, version: &str, file: &str, from: &str, to: &str) -> String {
    let src = fixture(&format!("focus/{version}"));
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        let mut text = std::fs::read_to_string(entry.path()).unwrap();
        if name == file {
            assert!(text.contains(from), "{from} not in {file}");
            text = text.replacen(from, to, 1);
        }
        env.write(&format!("{version}/{name}"), &text);
    }
    version.to_string()
}

fn attribute(env: &TestEnv, billing: &str, extra: &[&str]) -> Run {
    let mut args = vec!["attribute", "--billing", billing, "--out", "out"];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn model_cost(env: &TestEnv, model: &str) -> String {
    rows(&read_table(&env.path("out"), "cost_by_model"))
        .iter()
        .filter(|r| r["model_id"] == model)
        .map(|r| Money::parse(&r["cost"]).unwrap())
        .sum::<Money>()
        .to_string()
}

fn partition_manifest(env: &TestEnv) -> serde_json::Value {
    let p = env.path("out/cost_by_model/billing_period=2026-10/_manifest.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The manifest's reconciliation of invoice `id`.
fn invoice(manifest: &serde_json::Value, id: &str) -> serde_json::Value {
    manifest["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["invoice_id"] == id)
        .unwrap_or_else(|| panic!("no invoice {id}: {}", manifest["invoices"]))
        .clone()
}

fn unit_cost_status(env: &TestEnv) -> Vec<String> {
    rows(&read_table(&env.path("out"), "unit_costs"))
        .iter()
        .map(|r| r["billing_status"].clone())
        .collect()
}

#[test]
fn a_focus_1_3_folder_counts_cost_and_usage_only_and_shows_each_commitment_used() {
    let env = TestEnv::new();
    let dir = fixture("focus/v1_3");
    let r = attribute(&env, dir.to_str().unwrap(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // spend is the Cost and Usage dataset alone: 60.50 + 30.25 + 19.75 + 12.345 + 7.10 + 0
    assert_eq!(
        sums(&read_table(&env.path("out"), "cost_by_model"), "cost")
            [&("2026-10".to_string(), "USD".to_string())],
        "129.945"
    );
    // split rows: the pod's AllocatedTags name the model, the node's Tags the team
    assert_eq!(model_cost(&env, "chat"), "30.25");
    assert_eq!(model_cost(&env, "embedder"), "19.75");
    assert_eq!(model_cost(&env, "ranker"), "72.845");
    let m = manifest(&env.path("out"));
    let datasets: Vec<(&str, &str)> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["dataset"].as_str().unwrap(),
                i["format_version"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        datasets,
        [("cost_and_usage", "1.3"), ("contract_commitment", "1.3")]
    );
    let c = &m["commitments"];
    assert_eq!(c[0]["commitment_id"], "CC-SPEND-1");
    // 3650 over 2026 (365 days), October's 31 days: 310; 60.50 applied
    assert_eq!(c[0]["month_cost"], "310");
    assert_eq!(c[0]["applied_cost"], "60.5");
    assert_eq!(c[0]["used_pct"], "19.516129032258064516");
    assert_eq!(c[1]["commitment_id"], "CC-USAGE-1");
    assert_eq!(c[1]["month_quantity"], "1000");
    assert_eq!(c[1]["applied_quantity"], "400");
    assert_eq!(c[1]["used_pct"], "40");
    assert!(r.stderr.contains(
        "commitment CC-SPEND-1 2026-10 (Spend): applied 60.50 of the month's 310.00 (19.5% used)"
    ));
    assert!(r
        .stderr
        .contains("focus 1.3 contract_commitment (1 file(s))"));
    // no Billing Period dataset: no status anywhere
    assert!(m.get("billing_status").is_none());
    assert_eq!(unit_cost_status(&env), vec!["null".to_string(); 4]);
    assert_eq!(
        partition_manifest(&env)["commitments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_focus_1_4_folder_reconciles_every_invoice_and_marks_an_open_month_provisional() {
    let env = TestEnv::new();
    let dir = fixture("focus/v1_4");
    let r = attribute(&env, dir.to_str().unwrap(), &["--strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    let invoices = m["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 2);
    // INV-100 other than tax: 0 + 30.25 + 19.75 + 12.345 = 62.345 over four rows, as invoiced;
    // tax 7.10 on both sides, shown apart
    assert_eq!(invoices[0]["invoice_id"], "INV-100");
    assert_eq!(invoices[0]["invoiced"], "62.345");
    assert_eq!(invoices[0]["cost_and_usage"], "62.345");
    assert_eq!(invoices[0]["cost_and_usage_rows"], 4);
    assert_eq!(invoices[0]["invoiced_tax"], "7.1");
    assert_eq!(invoices[0]["cost_and_usage_tax"], "7.1");
    assert_eq!(invoices[0]["invoice_status"], "Issued");
    assert_eq!(invoices[0]["result"], "match");
    assert_eq!(invoices[1]["invoice_id"], "INV-101");
    assert_eq!(invoices[1]["result"], "match");
    assert_eq!(m["billing_status"]["2026-10"], "provisional");
    assert_eq!(partition_manifest(&env)["billing_status"], "provisional");
    assert_eq!(
        partition_manifest(&env)["invoices"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(unit_cost_status(&env).iter().all(|s| s == "provisional"));
    assert!(r.stderr.contains("2026-10 USD [provisional]"));
    assert!(r
        .stderr
        .contains("invoices: 2 of 2 match FOCUS Invoice Detail exactly;"));
    let formats = r.stderr.lines().find(|l| l.contains("formats:")).unwrap();
    for d in [
        "cost_and_usage",
        "contract_commitment",
        "billing_period",
        "invoice_detail",
    ] {
        assert!(formats.contains(d), "{formats}");
    }
    // the report says it too
    let report = env.run(&[
        "report", "--input", "out", "--format", "markdown", "--out", "-",
    ]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(report.stdout.contains("Invoices reconciled, 2026-10"));
    assert!(report.stdout.contains("Billing period status: provisional"));
    assert!(report.stdout.contains("| CC-SPEND-1 | Spend |"));
}

#[test]
fn a_rounding_difference_within_the_spec_tolerance_passes_strict() {
    let env = TestEnv::new();
    let dir = folder_with(
        &env,
        "v1_4",
        "focus_1_4_invoice_detail.csv",
        "\n500.00,",
        "\n500.01,",
    );
    let r = attribute(&env, &dir, &["--strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("note: invoice `INV-101` 2026-10 USD within the rounding tolerance: invoiced 500.01, Cost and Usage 500 (difference -0.01, tolerance 1)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        manifest(&env.path("out"))["invoices"][1]["result"],
        "within_tolerance"
    );
}

#[test]
fn an_invoice_that_does_not_add_up_is_a_warning_and_refused_under_strict() {
    let env = TestEnv::new();
    let dir = folder_with(
        &env,
        "v1_4",
        "focus_1_4_invoice_detail.csv",
        "\n500.00,",
        "\n501.50,",
    );
    let r = attribute(&env, &dir, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("warning: invoice `INV-101` 2026-10 USD does not reconcile: invoiced 501.5, Cost and Usage 500 (difference -1.5, tolerance 1)"),
        "{}",
        r.stderr
    );
    let m = manifest(&env.path("out"));
    assert_eq!(m["invoices"][1]["result"], "mismatch");
    assert_eq!(m["invoices"][1]["difference"], "-1.5");
    let published = published(&env.path("out"));
    let strict = attribute(&env, &dir, &["--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert!(strict
        .stderr
        .contains("--strict: 1 invoice(s) do not reconcile with FOCUS Invoice Detail"));
    // nothing published changed
    assert_eq!(published, crate::util::published(&env.path("out")));
    assert_eq!(manifest(&env.path("out"))["status"], "rejected");
}

#[test]
fn a_provisional_month_closed_later_is_recorded_as_its_final_restatement() {
    let env = TestEnv::new();
    let open = fixture("focus/v1_4");
    assert_eq!(attribute(&env, open.to_str().unwrap(), &[]).code, 0);
    let closed = folder_with(
        &env,
        "v1_4",
        "focus_1_4_billing_period.csv",
        ",Open,",
        ",Closed,",
    );
    let r = attribute(&env, &closed, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let history = partition_manifest(&env)["history"].clone();
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["status_before"], "provisional");
    assert_eq!(last["status_after"], "final");
    assert_eq!(last["final_restatement"], true);
    // the money did not move; the Billing Period file did
    assert_eq!(last["cost_before"], last["cost_after"]);
    assert_eq!(partition_manifest(&env)["billing_status"], "final");
    assert!(unit_cost_status(&env).iter().all(|s| s == "final"));
    assert!(r.stderr.contains("2026-10 USD [final]"));
    assert!(r.stderr.contains("restated 2026-10 USD"), "{}", r.stderr);
    // a second run over the closed month restates nothing
    let again = attribute(&env, &closed, &[]);
    assert_eq!(again.code, 0);
    let history = partition_manifest(&env)["history"].clone();
    assert_eq!(history.as_array().unwrap().len(), 1);
    // a run without the Billing Period file says the status is now unknown; closing it again
    // afterwards is not a second final restatement
    let v13 = fixture("focus/v1_3");
    let unknown = attribute(&env, v13.to_str().unwrap(), &[]);
    assert!(
        unknown
            .stderr
            .contains("final -> status unknown (no Billing Period dataset)"),
        "{}",
        unknown.stderr
    );
    assert_eq!(attribute(&env, &closed, &[]).code, 0);
    let history = partition_manifest(&env)["history"].clone();
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 3);
    // and with the Billing Period file but no row for the month, the summary says so
    let none = folder_with(
        &env,
        "v1_4",
        "focus_1_4_billing_period.csv",
        "2026-10-01T00:00:00Z,Open",
        "2026-09-01T00:00:00Z,Open",
    );
    let r = attribute(&env, &none, &[]);
    assert!(
        r.stderr
            .contains("status unknown (no Billing Period row for the month)"),
        "{}",
        r.stderr
    );
    assert_eq!(history[2]["status_after"], "final");
    assert!(history[2].get("final_restatement").is_none());
}

#[test]
fn a_month_reopened_after_it_was_final_is_a_warning() {
    let env = TestEnv::new();
    let closed = folder_with(
        &env,
        "v1_4",
        "focus_1_4_billing_period.csv",
        ",Open,",
        ",Closed,",
    );
    assert_eq!(attribute(&env, &closed, &[]).code, 0);
    // a run without the Billing Period file in between does not hide the reopening
    let v13 = fixture("focus/v1_3");
    assert_eq!(attribute(&env, v13.to_str().unwrap(), &[]).code, 0);
    let open = fixture("focus/v1_4");
    let r = attribute(&env, open.to_str().unwrap(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: 2026-10 was final and is open again"),
        "{}",
        r.stderr
    );
    assert_eq!(partition_manifest(&env)["billing_status"], "provisional");
}

#[test]
fn a_focus_1_4_cost_and_usage_file_with_invoice_detail_ids_is_spend() {
    // FOCUS 1.4 adds InvoiceDetailId to Cost and Usage: it must not pass for Invoice Detail
    let env = TestEnv::new();
    let src = fixture("focus/v1_4/focus_1_3_cost_and_usage.csv");
    let text = std::fs::read_to_string(src).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{},InvoiceDetailId\n", lines.next().unwrap());
    for (i, l) in lines.enumerate() {
        out.push_str(&format!("{l},D-{i}\n"));
    }
    env.write("f14/focus_1_4_cost_and_usage.csv", &out);
    let r = attribute(&env, "f14", &["--strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    assert_eq!(m["inputs"][0]["dataset"], "cost_and_usage");
    assert_eq!(m["periods"][0]["cost_read"], "129.945");
}

#[test]
fn a_month_not_invoiced_yet_does_not_stop_strict() {
    // November's rows have no InvoiceId yet; Invoice Detail covers October only
    let env = TestEnv::new();
    let dir = folder_with(
        &env,
        "v1_4",
        "focus_1_3_cost_and_usage.csv",
        "2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,Tax,,Sales tax,Recurring,,,,AWS,INV-100",
        "2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,Tax,,Sales tax,Recurring,,,,AWS,",
    );
    let r = attribute(&env, &dir, &["--strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("not checked: Cost and Usage rows without an InvoiceId (not invoiced yet)"),
        "{}",
        r.stderr
    );
    // October's INV-100 lost its tax row in Cost and Usage: tax is compared apart
    let m = manifest(&env.path("out"));
    let inv = invoice(&m, "INV-100");
    assert_eq!(inv["result"], "match");
    assert_eq!(inv["invoiced_tax"], "7.1");
    assert_eq!(inv["cost_and_usage_tax"], "0");
}

#[test]
fn a_commitment_purchase_row_naming_it_is_not_use() {
    // the spec makes the purchase row carry ContractApplied with its own id
    let env = TestEnv::new();
    let dir = folder_with(
        &env,
        "v1_3",
        "focus_1_3_cost_and_usage.csv",
        "Monthly fee of the spend commitment,Recurring,,,,",
        r#"Monthly fee of the spend commitment,Recurring,,,"{""Elements"":[{""ContractId"":""K-1"",""ContractCommitmentId"":""CC-SPEND-1"",""ContractCommitmentAppliedCost"":""500""}]}","#,
    );
    let r = attribute(&env, &dir, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = &manifest(&env.path("out"))["commitments"][0];
    assert_eq!(c["applied_cost"], "60.5");
    assert_eq!(c["purchase_cost"], "500");
    assert_eq!(c["used_pct"], "19.516129032258064516");
}

#[test]
fn datasets_that_are_not_spend_alone_are_refused_with_a_hint() {
    let env = TestEnv::new();
    let f = fixture("focus/v1_3/focus_1_3_contract_commitment.csv");
    let r = attribute(&env, f.to_str().unwrap(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r
        .stderr
        .contains("holds only FOCUS datasets that are not spend"));
    assert!(r
        .stderr
        .contains("give the FOCUS Cost and Usage dataset too"));
}

#[test]
fn a_bad_value_in_a_dataset_names_its_file_row_and_column() {
    let env = TestEnv::new();
    let dir = folder_with(
        &env,
        "v1_4",
        "focus_1_4_invoice_detail.csv",
        "\n7.10,",
        "\nseven,",
    );
    let r = attribute(&env, &dir, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("focus_1_4_invoice_detail.csv")
            && r.stderr
                .contains("row 2, column `BilledCost`: `seven` is not a decimal number"),
        "{}",
        r.stderr
    );
    let dir = folder_with(
        &env,
        "v1_4",
        "focus_1_4_billing_period.csv",
        ",Open,",
        ",Pending,",
    );
    let r = attribute(&env, &dir, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("`Pending` is not a billing period status"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("FOCUS allows `Open` or `Closed`"),
        "{}",
        r.stderr
    );
}

#[test]
fn contract_applied_that_is_not_the_spec_json_is_counted_not_fatal() {
    let env = TestEnv::new();
    let dir = folder_with(
        &env,
        "v1_3",
        "focus_1_3_cost_and_usage.csv",
        r#""{""Elements"":[{""ContractId"":""K-1"",""ContractCommitmentId"":""CC-SPEND-1"""#,
        r#""{""Elemnts"":[{""ContractId"":""K-1"",""ContractCommitmentId"":""CC-SPEND-1"""#,
    );
    let r = attribute(&env, &dir, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    assert_eq!(m["commitments"][0]["applied_cost"], "0");
    assert!(
        r.stderr
            .contains("1 Cost and Usage row(s) have a ContractApplied"),
        "{}",
        r.stderr
    );
}

#[test]
fn monthly_delivery_folders_repeat_the_datasets_that_are_not_spend_without_counting_them_twice() {
    // 2026-10/ and 2026-11/ deliveries: the same Contract Commitment snapshot in both, an
    // Invoice Detail line given again, and October's status Open in the first and Closed
    // (updated later) in the second
    let env = TestEnv::new();
    let src = fixture("focus/v1_4");
    let read = |f: &str| std::fs::read_to_string(src.join(f)).unwrap();
    for month in ["2026-10", "2026-11"] {
        env.write(
            &format!("exports/{month}/focus_1_3_contract_commitment.csv"),
            &read("focus_1_3_contract_commitment.csv"),
        );
        env.write(
            &format!("exports/{month}/focus_1_4_invoice_detail.csv"),
            &read("focus_1_4_invoice_detail.csv"),
        );
    }
    env.write(
        "exports/2026-10/focus_1_3_cost_and_usage.csv",
        &read("focus_1_3_cost_and_usage.csv"),
    );
    env.write(
        "exports/2026-10/focus_1_4_billing_period.csv",
        &read("focus_1_4_billing_period.csv"),
    );
    env.write(
        "exports/2026-11/focus_1_4_billing_period.csv",
        &read("focus_1_4_billing_period.csv")
            .replace(",Open,", ",Closed,")
            .replace("2026-11-02T06:00:00Z", "2026-11-20T06:00:00Z"),
    );
    let r = attribute(&env, "exports", &["--strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    assert_eq!(
        m["commitments"].as_array().unwrap().len(),
        2,
        "{}",
        m["commitments"]
    );
    let invoices = m["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 2);
    assert!(
        invoices.iter().all(|i| i["result"] == "match"),
        "{invoices:?}"
    );
    assert_eq!(m["billing_status"]["2026-10"], "final");
    assert!(
        r.stderr.contains("replaces 2 commitment(s)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("replaces 3 invoice line(s)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_voided_invoice_nobody_names_does_not_stop_strict() {
    let env = TestEnv::new();
    let mut detail =
        std::fs::read_to_string(fixture("focus/v1_4/focus_1_4_invoice_detail.csv")).unwrap();
    let last = detail.lines().last().unwrap().to_string();
    detail.push_str(
        &last
            .replace("INV-101-1", "INV-099-1")
            .replace("INV-101", "INV-099")
            .replace(",Issued,", ",Voided,"),
    );
    detail.push('\n');
    let dir = folder_with(
        &env,
        "v1_4",
        "focus_1_4_invoice_detail.csv",
        "BilledCost,",
        "BilledCost,",
    );
    env.write(&format!("{dir}/focus_1_4_invoice_detail.csv"), &detail);
    let r = attribute(&env, &dir, &["--strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    let voided = invoice(&m, "INV-099");
    assert_eq!(voided["result"], "not_checked");
}

#[test]
fn a_cost_and_usage_file_without_invoice_ids_makes_every_invoice_not_checked() {
    // its rows may belong to any invoice: nothing can be said to match or not
    let env = TestEnv::new();
    let dir = folder_with(
        &env,
        "v1_4",
        "focus_1_4_invoice_detail.csv",
        "BilledCost,",
        "BilledCost,",
    );
    std::fs::write(
        env.path(&format!("{dir}/older_export.csv")),
        focus(&[good("5")]),
    )
    .unwrap();
    let r = attribute(&env, &dir, &["--strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    let invoices = m["invoices"].as_array().unwrap();
    assert!(
        invoices.iter().all(|i| i["result"] == "not_checked"),
        "{invoices:?}"
    );
    assert!(r.stderr.contains("has no InvoiceId column"), "{}", r.stderr);
}

#[test]
fn commitment_use_in_another_currency_is_never_added_to_it() {
    let env = TestEnv::new();
    let text = std::fs::read_to_string(fixture("focus/v1_3/focus_1_3_cost_and_usage.csv")).unwrap();
    let gpu = text.lines().find(|l| l.contains("ranker-gpu-1")).unwrap();
    let yen = gpu.replace(",USD,", ",JPY,").replace(":60.5}", ":1000}");
    assert_ne!(gpu, yen);
    env.write("f/focus_1_3_cost_and_usage.csv", &format!("{text}{yen}\n"));
    env.write(
        "f/focus_1_3_contract_commitment.csv",
        &std::fs::read_to_string(fixture("focus/v1_3/focus_1_3_contract_commitment.csv")).unwrap(),
    );
    let r = attribute(&env, "f", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&env.path("out"));
    let c = m["commitments"].as_array().unwrap();
    let usd = c
        .iter()
        .find(|c| c["commitment_id"] == "CC-SPEND-1" && c["currency"] == "USD")
        .unwrap();
    assert_eq!(usd["applied_cost"], "60.5");
    let jpy = c
        .iter()
        .find(|c| c["commitment_id"] == "CC-SPEND-1" && c["currency"] == "JPY")
        .unwrap();
    assert_eq!(jpy["applied_cost"], "1000");
    assert_eq!(jpy["in_contract_commitment"], false);
}
