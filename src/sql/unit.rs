//! The `unit_costs` query's last half: cost_by_model's rows pivoted into phase columns, the
//! model's team, requests, and the cost per request and per 1,000 requests rounded half away
//! from zero at 18 decimals in integers, as `economics::unit_costs` computes them (no revenue:
//! the SQL reads none; no targets: a config with any is refused).

use super::*;
use crate::economics::reason;
use crate::schema::{PHASE_COLUMNS, PHASE_VALUES};

impl Query<'_> {
    pub(super) fn phase_costs(&self) -> String {
        let d = self.d;
        let phase = "REPLACE(REPLACE(lifecycle_phase, '-', '_'), ' ', '_')";
        let whens: Vec<String> = PHASE_VALUES
            .iter()
            .map(|(column, values)| {
                let values: Vec<String> = values.iter().map(|v| d.lit(v)).collect();
                format!(
                    "WHEN {phase} IN ({}) THEN {}",
                    values.join(", "),
                    d.lit(column)
                )
            })
            .collect();
        let zero = d.money_lit(Money::ZERO);
        let sums: Vec<String> = PHASE_COLUMNS
            .iter()
            .map(|c| {
                format!(
                    "SUM(CASE WHEN phase_column = {} THEN cost ELSE {zero} END) AS {c}",
                    d.lit(c)
                )
            })
            .collect();
        format!(
            "  SELECT billing_period, model_id, currency,\n    {},\n    SUM(cost) AS total_cost\n  FROM (\n    SELECT billing_period, model_id, currency, cost,\n      CASE {} ELSE {} END AS phase_column\n    FROM cost_by_model\n  ) c\n  GROUP BY billing_period, model_id, currency",
            sums.join(",\n    "),
            whens.join(" "),
            d.lit(PHASE_COLUMNS[6]),
        )
    }

    pub(super) fn unit_team(&self) -> String {
        "  SELECT billing_period, model_id, currency, team FROM (\n    SELECT billing_period, model_id, currency, team,\n      ROW_NUMBER() OVER (PARTITION BY billing_period, model_id, currency ORDER BY ABS(cost) DESC, team) AS rn\n    FROM (\n      SELECT billing_period, model_id, currency, team, SUM(cost) AS cost\n      FROM cost_by_model\n      GROUP BY billing_period, model_id, currency, team\n    ) t\n  ) x\n  WHERE rn = 1".into()
    }

    pub(super) fn unit_base(&self) -> String {
        let d = self.d;
        let volumes = self.s.requests_table.is_some();
        // `schema::is_model`
        let reserved = Self::reserved_model("p.model_id");
        let requests = if volumes { "r.requests" } else { "NULL" };
        let reserved_reason = format!(
            "WHEN p.model_id = {} THEN {} WHEN {reserved} THEN {}",
            d.lit(crate::allocate::amortize::DEFERRED_TRAINING),
            d.lit(reason::DEFERRED_TRAINING),
            d.lit(reason::UNALLOCATED),
        );
        let reason = if volumes {
            format!(
                "CASE {reserved_reason} WHEN r.requests IS NULL THEN {} WHEN r.requests = 0 THEN {} END",
                d.lit(reason::NO_REQUESTS),
                d.lit(reason::ZERO_REQUESTS),
            )
        } else {
            format!(
                "CASE {reserved_reason} ELSE {} END",
                d.lit(reason::NO_VOLUMES),
            )
        };
        let join = if volumes {
            "\n  LEFT JOIN requests r ON r.billing_period = p.billing_period AND r.model_id = p.model_id"
        } else {
            ""
        };
        let one = d.int_lit(1);
        format!(
            "  SELECT p.*, t.team, {reserved} AS reserved,\n    CAST({requests} AS {int}) AS n,\n    {reason} AS reason,\n    {units} AS u\n  FROM phase_costs p\n  JOIN unit_team t ON t.billing_period = p.billing_period AND t.model_id = p.model_id AND t.currency = p.currency{join}",
            int = d.int(),
            units = d.money_to_units("p.total_cost", &d.int_lit(10i128.pow(SCALE)), &one),
        )
    }

    /// `a / n` for integers, rounded half away from zero (`Money::div_int`).
    fn rounded_div(&self, a: &str, n: &str) -> String {
        let d = self.d;
        let abs = format!("ABS({a})");
        let rem = d.int_mod(&abs, n);
        format!(
            "CASE WHEN {a} < 0 THEN -1 ELSE 1 END * ({q} + CASE WHEN 2 * ({rem}) >= {n} THEN 1 ELSE 0 END)",
            q = d.int_div_exact(&format!("{abs} - {rem}"), n),
        )
    }

    pub(super) fn unit_costs(&self) -> String {
        let d = self.d;
        let money = d.money();
        let null_money = format!("CAST(NULL AS {money})");
        let per_1000 = format!("u * {}", d.int_lit(1000));
        let phases = PHASE_COLUMNS.join(", ");
        format!(
            "SELECT billing_period, model_id, team, currency,\n  {phases}, total_cost,\n  CAST(CASE WHEN NOT reserved THEN n END AS {bigint}) AS requests,\n  {per_request} AS cost_per_request,\n  {per_1000} AS cost_per_1000_requests,\n  reason AS unit_cost_reason,\n  {null_money} AS revenue, {null_money} AS value_preserved, {null_money} AS revenue_per_request,\n  {null_money} AS gross_margin_pct, {null_money} AS cost_pct_of_revenue, {null_money} AS roi,\n  {null_money} AS cost_per_dollar_of_value,\n  {no_revenue} AS economics_reason,\n  'no_target' AS verdict,\n  CASE WHEN reserved THEN {not_model} ELSE {no_targets} END AS verdict_reason,\n  CAST(NULL AS {text}) AS billing_status\nFROM (\n  SELECT b.*,\n    CASE WHEN reason IS NULL THEN {per_request_units} END AS per_request_units,\n    CASE WHEN reason IS NULL THEN {per_1000_units} END AS per_1000_units\n  FROM unit_base b\n) x\nORDER BY billing_period, model_id, currency\n",
            bigint = d.bigint(),
            per_request_units = self.rounded_div("u", "n"),
            per_1000_units = self.rounded_div(&per_1000, "n"),
            per_request = d.units_to_money("per_request_units", "18"),
            per_1000 = d.units_to_money("per_1000_units", "18"),
            no_revenue = d.lit(reason::NO_REVENUE_FILE),
            not_model = d.lit(reason::NOT_A_MODEL),
            no_targets = d.lit(reason::NO_TARGETS),
            text = d.text(),
        )
    }
}
