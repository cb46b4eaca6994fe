//! `attribute --grain day` on a hand-computed fixture (tests/fixtures/daily, 2026-10, USD;
//! every number below is worked out by hand):
//! - model a: 10.00 on Oct 1, 12.00 on Oct 2, 5.00 without a charge day;
//! - model b: 20.00 on Oct 1, and 3.00 charged at 2026-10-01T01:00+02:00, which is
//!   2026-09-30 23:00 UTC: a late charge of September in October's bill;
//! - the feature-store pool (fs-*): 6.00 on Oct 1 and 9.00 on Oct 2, split by requests.
//!
//! Requests by day: Oct 1 a 100, b 200; Oct 2 a 300. So Oct 1's pool is a 2.00, b 4.00 and
//! Oct 2's all a's, 9.00. The month splits its 15.00 by a 400 : b 200, 10.00 and 5.00.

use crate::util::*;

fn attribute(env: &TestEnv, requests: &str, out: &str, grain: &[&str]) -> Run {
    attribute_with(
        env,
        requests,
        out,
        &fixture("daily/mlcost.toml"),
        grain,
        &[],
    )
}

/// `attribute` of the fixture's bill with `config`, more arguments and environment variables.
fn attribute_with(
    env: &TestEnv,
    requests: &str,
    out: &str,
    config: &std::path::Path,
    more: &[&str],
    vars: &[(&str, &str)],
) -> Run {
    let billing = fixture("daily/billing.csv");
    let mut args = vec![
        "attribute",
        "--billing",
        billing.to_str().unwrap(),
        "--requests",
        requests,
        "--config",
        config.to_str().unwrap(),
        "--out",
        out,
    ];
    args.extend(more);
    env.run_env(&args, vars)
}

fn day_rows(out: &std::path::Path, table: &str, columns: &[&str]) -> Vec<String> {
    rows(&read_table(out, table))
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| r[*c].clone())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn each_day_adds_up_to_its_bill_and_the_month_is_unchanged() {
    let env = TestEnv::new();
    let requests = fixture("daily/requests.csv");
    let r = attribute(&env, requests.to_str().unwrap(), "out", &["--grain", "day"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = env.path("out");
    assert_eq!(
        day_rows(
            &out,
            "cost_by_model_daily",
            &["charge_date", "model_id", "allocation_method", "cost"]
        ),
        [
            "null a direct 5",
            "2026-09-30 b direct 3",
            "2026-10-01 a shared:feature-store 2",
            "2026-10-01 a direct 10",
            "2026-10-01 b shared:feature-store 4",
            "2026-10-01 b direct 20",
            "2026-10-02 a shared:feature-store 9",
            "2026-10-02 a direct 12",
        ]
    );
    assert_eq!(
        day_rows(
            &out,
            "unit_costs_daily",
            &[
                "charge_date",
                "model_id",
                "total_cost",
                "requests",
                "cost_per_request"
            ]
        ),
        [
            "null a 5 null null",
            "2026-09-30 b 3 null null",
            "2026-10-01 a 12 100 0.12",
            "2026-10-01 b 24 200 0.12",
            "2026-10-02 a 21 300 0.07",
        ]
    );
    // the monthly tables are the month's, byte for byte what a monthly run writes
    let r = attribute(&env, requests.to_str().unwrap(), "monthly", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for table in ["cost_by_model", "unit_costs", "tag_compliance"] {
        let (day, month) = (
            tree_bytes(&out.join(table), &["_manifest.json"]),
            tree_bytes(&env.path("monthly").join(table), &["_manifest.json"]),
        );
        assert_eq!(day, month, "{table}");
    }
    assert_eq!(
        day_rows(
            &out,
            "cost_by_model",
            &["model_id", "allocation_method", "cost"]
        ),
        [
            "a shared:feature-store 10",
            "a direct 27",
            "b shared:feature-store 5",
            "b direct 23",
        ]
    );
    let m = manifest(&out);
    assert_eq!(m["reconciliation"]["ok"], true);
    // Sep 30, Oct 1, Oct 2 and the undated row's day
    assert_eq!(m["reconciliation"]["days_checked"], 4);
    assert_eq!(m["daily"]["days"], 3);
    assert_eq!(m["daily"]["undated_rows"], 1);
    assert_eq!(m["daily"]["undated_cost"]["2026-10 USD"], "5");
    assert_eq!(m["daily"]["volumes"], "day");
    assert!(
        r.stderr.is_empty() || !r.stderr.contains("charge day"),
        "a monthly run says nothing of days: {}",
        r.stderr
    );
    let r = attribute(
        &env,
        requests.to_str().unwrap(),
        "again",
        &["--grain", "day"],
    );
    assert!(
        r.stderr
            .contains("1 billing rows (5 USD in 2026-10) have no charge day"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("and 4 day/currency total(s) of the daily tables match exactly"),
        "{}",
        r.stderr
    );
    // the same inputs give the same bytes
    for table in ["cost_by_model_daily", "unit_costs_daily", "anomalies"] {
        assert_eq!(
            tree_bytes(&out.join(table), &["_manifest.json"]),
            tree_bytes(&env.path("again").join(table), &["_manifest.json"]),
            "{table}"
        );
    }
}

/// Volumes by month: a day's pool weighs by the month's requests (a 400 : b 200) over the
/// models billed that day (Oct 2: a alone), and the daily unit costs have no requests.
#[test]
fn monthly_volumes_weigh_each_day_by_the_month() {
    let env = TestEnv::new();
    // a `billing_period` column gives a month even when it holds the month's first day
    for (i, month) in ["2026-10", "2026-10-01"].into_iter().enumerate() {
        let requests = env.write(
            &format!("monthly{i}.csv"),
            &format!("billing_period,model_id,requests\n{month},a,400\n{month},b,200\n"),
        );
        let out = format!("out{i}");
        let r = attribute(&env, requests.to_str().unwrap(), &out, &["--grain", "day"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.contains("the volumes give months, not days"),
            "{}",
            r.stderr
        );
        let out = env.path(&out);
        let shared: Vec<String> = day_rows(
            &out,
            "cost_by_model_daily",
            &["charge_date", "model_id", "allocation_method", "cost"],
        )
        .into_iter()
        .filter(|r| r.contains("shared"))
        .collect();
        assert_eq!(
            shared,
            [
                "2026-10-01 a shared:feature-store 4",
                "2026-10-01 b shared:feature-store 2",
                "2026-10-02 a shared:feature-store 9",
            ]
        );
        let requests: Vec<String> = day_rows(&out, "unit_costs_daily", &["requests"]);
        assert!(requests.iter().all(|r| r == "null"), "{requests:?}");
        assert_eq!(manifest(&out)["daily"]["volumes"], "month");
    }
    // a file of days and months: the month rows count in the monthly unit costs only, and a
    // day's requests of a model without spend that day in no daily row; both are said
    let requests = env.write(
        "mixed.csv",
        "date,model_id,requests\n2026-10-01,a,100\n2026-10,a,300\n2026-10-02,b,7\n2026-10-07,a,5000\n",
    );
    let r = attribute(
        &env,
        requests.to_str().unwrap(),
        "mixed",
        &["--grain", "day"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("1 volume row(s) give a month, not a day")
            && r.stderr
                .contains("2 model-day(s) have requests but no spend that day"),
        "{}",
        r.stderr
    );
}

/// A FOCUS file of one model's days: (charge day, cost) pairs, and its daily requests.
fn days_of(env: &TestEnv, name: &str, days: &[(&str, &str, u32)]) -> (String, String) {
    let mut billing = String::from(
        "BillingPeriodStart,ChargePeriodStart,BillingCurrency,ChargeCategory,ResourceId,Tags,BilledCost,EffectiveCost\n",
    );
    let mut requests = String::from("date,model_id,requests\n");
    for (day, cost, n) in days {
        let month = &day[..7];
        billing.push_str(&format!(
            "{month}-01,{day},USD,Usage,i-a,\"{{\"\"model_id\"\": \"\"a\"\", \"\"team\"\": \"\"t\"\"}}\",{cost},{cost}\n"
        ));
        requests.push_str(&format!("{day},a,{n}\n"));
    }
    (
        env.write(&format!("{name}.csv"), &billing)
            .display()
            .to_string(),
        env.write(&format!("{name}_requests.csv"), &requests)
            .display()
            .to_string(),
    )
}

/// September's last fortnight is published; October's first day jumps. The run of October
/// alone flags it against the published days: median 100, MAD 2, score 80 / 2.9652 = 26.98;
/// requests 1,500 against 1,000, so 50.00 of the 80.00 is volume and 30.00 spend. The cost
/// per request moved too: 0.12 against 0.10 (MAD 0.002).
#[test]
fn a_day_is_flagged_against_the_published_days_before_it() {
    let env = TestEnv::new();
    let september: Vec<(String, &str, u32)> = (17..=30)
        .map(|d| (format!("2026-09-{d}"), ["100", "102", "98"][d % 3], 1000))
        .collect();
    let september: Vec<(&str, &str, u32)> = september
        .iter()
        .map(|(d, c, n)| (d.as_str(), *c, *n))
        .collect();
    let (sep, sep_requests) = days_of(&env, "sep", &september);
    let (oct, oct_requests) = days_of(&env, "oct", &[("2026-10-01", "180", 1500)]);
    let run = |billing: &str, requests: &str, out: &str| {
        env.run(&[
            "attribute",
            "--billing",
            billing,
            "--requests",
            requests,
            "--out",
            out,
            "--grain",
            "day",
        ])
    };
    // without the published history October's day has no baseline
    let r = run(&oct, &oct_requests, "alone");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(read_table(&env.path("alone"), "anomalies").height() == 0);
    let r = run(&sep, &sep_requests, "out");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&oct, &oct_requests, "out");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = env.path("out");
    assert_eq!(
        day_rows(
            &out,
            "anomalies",
            &[
                "charge_date",
                "model_id",
                "metric",
                "value",
                "baseline",
                "mad",
                "score",
                "history_days",
                "baseline_requests",
                "spend_effect",
                "volume_effect"
            ]
        ),
        [
            "2026-10-01 a cost 180 100 2 26.98 14 1000 30 50",
            "2026-10-01 a cost_per_request 0.12 0.1 0.002 6.74 14 1000 30 50",
        ]
    );
    assert!(
        r.stderr
            .contains("anomalies: 1 model-day(s) flagged (2 row(s))")
            && r.stderr.contains(
                "2026-10-01 a cost: 180.00 vs 100.00 USD (cost +80.00: spend +30.00, volume +50.00)"
            ),
        "{}",
        r.stderr
    );
    let r = env.run(&[
        "report", "--input", "out", "--out", "r.md", "--format", "markdown",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = std::fs::read_to_string(env.path("r.md")).unwrap();
    assert!(
        report.contains("## Days that departed from their baseline, 2026-10")
            && report.contains(
                "| 2026-10-01 | a | cost | $180.00 | $100.00 | 26.98 | $80.00 | $30.00 | $50.00 |"
            ),
        "{report}"
    );
    let flagged = day_rows(&out, "anomalies", &["charge_date", "metric", "score"]);
    // a run of August and October together still reads the published September between them
    let (aug_oct, aug_oct_requests) = days_of(
        &env,
        "aug_oct",
        &[("2026-08-20", "50", 100), ("2026-10-01", "180", 1500)],
    );
    let r = run(&aug_oct, &aug_oct_requests, "out");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        day_rows(&out, "anomalies", &["charge_date", "metric", "score"]),
        flagged
    );
    // republishing September says October's anomalies looked back at the days it replaces
    let r = run(&sep, &sep_requests, "out");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "the published anomalies of 2026-10 were judged against the days this run replaces"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(manifest(&out)["daily"]["stale_anomalies"][0], "2026-10");
    // so does a monthly run, which removes September's days
    let r = env.run(&["attribute", "--billing", &sep, "--out", "out"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "the published anomalies of 2026-10 were judged against the days this run replaces"
        ),
        "{}",
        r.stderr
    );
    // a September published by a monthly run leaves October's window short, and says so
    let r = env.run(&["attribute", "--billing", &sep, "--out", "monthly"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&oct, &oct_requests, "monthly");
    assert!(
        r.stderr.contains("the anomaly window reaches back into 2026-09, which was published without `--grain day`"),
        "{}",
        r.stderr
    );
    // a narrower [anomalies] setting: a threshold above the score flags nothing
    let config = env.write(
        "strict.toml",
        "[anomalies]\nthreshold = 30\nmin_change = 100\n",
    );
    let r = env.run(&[
        "attribute",
        "--billing",
        &oct,
        "--requests",
        &oct_requests,
        "--out",
        "out",
        "--grain",
        "day",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read_table(&out, "anomalies").height(), 0);
}

/// A monthly run that republishes a month removes its daily partitions: left in place they
/// would describe the month as the replaced run saw it.
#[test]
fn a_monthly_run_removes_the_days_it_did_not_attribute() {
    let env = TestEnv::new();
    let requests = fixture("daily/requests.csv");
    let r = attribute(&env, requests.to_str().unwrap(), "out", &["--grain", "day"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = attribute(&env, requests.to_str().unwrap(), "out", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for table in ["cost_by_model_daily", "unit_costs_daily", "anomalies"] {
        assert!(
            !env.path("out")
                .join(table)
                .join("billing_period=2026-10")
                .exists(),
            "{table}"
        );
        assert!(
            r.stderr.contains(&format!(
                "`{table}/billing_period=2026-10` removed: this run republished its month without it (it was not run with `--grain day`)"
            )),
            "{}",
            r.stderr
        );
    }
}

/// A daily table that does not add up to the day's bill publishes nothing.
#[test]
fn a_day_that_does_not_add_up_publishes_nothing() {
    let env = TestEnv::new();
    let requests = fixture("daily/requests.csv");
    let r = attribute(&env, requests.to_str().unwrap(), "out", &["--grain", "day"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = published(&env.path("out"));
    let r = attribute_with(
        &env,
        requests.to_str().unwrap(),
        "out",
        &fixture("daily/mlcost.toml"),
        &["--grain", "day"],
        &[("MLCOST_TEST_CORRUPT_OUTPUT", "daily")],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("2026-10 USD (no charge day): read 5, cost_by_model_daily 5.000000000000000001, unit_costs_daily 5"),
        "{}",
        r.stderr
    );
    assert_eq!(published(&env.path("out")), before);
}

/// The Polars reader of a Parquet file whose charge period is a timestamp or a date gives the
/// fast path's days, byte for byte.
#[test]
fn typed_charge_periods_read_alike_by_either_parquet_reader() {
    let env = TestEnv::new();
    for (i, period) in [
        "--period-type=timestamp-ms",
        "--period-type=timestamp-ns",
        "--period-type=date32",
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("s{i}");
        crate::sample::sample(
            &env,
            &name,
            &[
                "--rows",
                "3000",
                "--months",
                "2",
                "--seed",
                "5",
                "--format",
                "parquet",
                period,
                match period.contains("timestamp") {
                    true => "--time-zone=-05:00",
                    false => "--cost-type=double",
                },
            ],
        );
        let billing = format!("{name}/focus_sample.parquet");
        let requests = format!("{name}/requests.csv");
        let mut trees = Vec::new();
        for (reader, out) in [("", "fast"), ("polars", "polars")] {
            let out = format!("{name}_{out}");
            let args = [
                "attribute",
                "--billing",
                &billing,
                "--requests",
                &requests,
                "--out",
                &out,
                "--grain",
                "day",
                "-q",
            ];
            let r = match reader {
                "" => env.run(&args),
                r => env.run_env(&args, &[("MLCOST_PARQUET_READER", r)]),
            };
            assert_eq!(r.code, 0, "{period} {reader}: {}", r.stderr);
            let mut tree = std::collections::BTreeMap::new();
            for table in [
                "cost_by_model",
                "cost_by_model_daily",
                "unit_costs_daily",
                "anomalies",
            ] {
                tree.extend(
                    tree_bytes(&env.path(&out).join(table), &["_manifest.json"])
                        .into_iter()
                        .map(|(k, v)| (format!("{table}/{k}"), v)),
                );
            }
            assert!(
                manifest(&env.path(&out))["reconciliation"]["days_checked"].as_u64() > Some(30)
            );
            trees.push(tree);
        }
        assert_eq!(trees[0], trees[1], "{period}");
    }
}

#[test]
fn anomaly_settings_out_of_range_name_their_line() {
    let env = TestEnv::new();
    let requests = fixture("daily/requests.csv");
    for (text, want) in [
        (
            "[anomalies]\nwindow_days = 1\n",
            "a whole number of days from 2 to 90",
        ),
        ("[anomalies]\nthreshold = 0\n", "a number above 0"),
        ("[anomalies]\nwindow = 14\n", "unknown field `window`"),
        (
            "[anomalies]\nwindow_days = 5\nmin_history_days = 6\n",
            "asks for more days than the window of 5 days holds",
        ),
        (
            "[anomalies]\nmin_history_days = 15\n",
            "asks for more days than the window of 14 days holds",
        ),
    ] {
        let config = env.write("bad.toml", text);
        let r = attribute_with(
            &env,
            requests.to_str().unwrap(),
            "out",
            &config,
            &["--grain", "day"],
            &[],
        );
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        assert!(
            r.stderr.contains(want) && (want.starts_with("asks") || r.stderr.contains("line 2")),
            "{text}: {}",
            r.stderr
        );
    }
}
