//! Training amortisation (`[amortize] training_months = N`, `method = "months"`) in SQL: the
//! training spend a model incurs in a month is charged in equal shares over that month and the
//! next N - 1 months of the bill, as `allocate::amortize` charges it over the months of one
//! run. Largest-remainder rounding of equal shares has a closed form: of `n` quanta over `N`
//! months, the first `n mod N` months take one quantum more than `n div N`, so every month's
//! installment (and the `training_amortization` row with the balance left) is computed
//! directly, without carrying a balance from row to row.

use super::*;

impl Query<'_> {
    /// Whether the query amortises training (`[amortize] training_months > 1`).
    pub(super) fn amortising(&self) -> bool {
        self.rules.training_months > 1
    }

    /// The months of the run in order (`rk` 1, 2, ...): every month a billing row has, as
    /// `attribute` replaces every month of its input; with `--period P`, P and the
    /// `training_months - 1` months before it, whose training P still pays for.
    pub(super) fn run_periods(&self) -> String {
        let d = self.d;
        let months = self.rules.training_months;
        match &self.s.period {
            None => "  SELECT billing_period, ROW_NUMBER() OVER (ORDER BY billing_period) AS rk\n  FROM (SELECT DISTINCT billing_period FROM billing_periods WHERE billing_period IS NOT NULL) x".to_string(),
            Some(p) => format!(
                "  SELECT billing_period, ROW_NUMBER() OVER (ORDER BY billing_period) AS rk\n  FROM (\n    SELECT billing_period, ROW_NUMBER() OVER (ORDER BY billing_period DESC) AS back\n    FROM (\n      SELECT DISTINCT billing_period FROM (\n        SELECT billing_period FROM billing_periods WHERE billing_period < {p}\n        UNION ALL\n        SELECT {p} AS billing_period\n      ) u\n    ) x\n  ) y\n  WHERE back <= {months}",
                p = d.lit(p),
            ),
        }
    }

    /// Training spend per month, model, team and currency (models only, not reserved
    /// buckets); a month whose sum is zero opens no schedule.
    pub(super) fn training(&self) -> String {
        format!(
            "  SELECT t.billing_period AS incurred_period, r.rk AS incurred_rk, t.model_id, t.team, t.currency, t.c,\n    {places} AS places\n  FROM (\n    SELECT billing_period, model_id, team, currency, SUM(cost) AS c\n    FROM attributed\n    WHERE lifecycle_phase = 'training' AND NOT {reserved}\n    GROUP BY billing_period, model_id, team, currency\n  ) t\n  JOIN run_periods r ON r.billing_period = t.billing_period\n  WHERE t.c <> 0",
            places = self.places("t.c"),
            reserved = Self::reserved_model("model_id"),
        )
    }

    /// `NOT schema::is_model(column)`: a reserved bucket (`__name__`) or a pool without
    /// targets (`shared:<id>`).
    pub(super) fn reserved_model(column: &str) -> String {
        format!("(SUBSTR({column}, 1, 2) = '__' OR SUBSTR({column}, 1, 7) = 'shared:')")
    }

    /// Each schedule's months within the run: `j` (1 = the month it was incurred), and the
    /// quanta moved that month (signed like the cost): in month 1 the part deferred, later
    /// the installment. Month 1 is always there; a later month only while a balance is left.
    pub(super) fn schedule_months(&self) -> String {
        let d = self.d;
        let months = self.rules.training_months;
        let m = d.int_lit(i128::from(months));
        let n = "s.n";
        format!(
            "  SELECT s.*, rp.billing_period, rp.rk - s.incurred_rk + 1 AS j,\n    CASE WHEN s.c < 0 THEN -1 ELSE 1 END * CASE WHEN rp.rk = s.incurred_rk\n      THEN {n} - (s.q + CASE WHEN s.r >= 1 THEN 1 ELSE 0 END)\n      ELSE s.q + CASE WHEN rp.rk - s.incurred_rk + 1 <= s.r THEN 1 ELSE 0 END\n    END AS moved\n  FROM (\n    SELECT u.*, {q} AS q, {r} AS r\n    FROM (\n      SELECT t.*, {units} AS n\n      FROM training t\n      JOIN p10 pp ON pp.n = t.places\n      JOIN p10 pr ON pr.n = {SCALE} - t.places\n    ) u\n  ) s\n  JOIN run_periods rp ON rp.rk >= s.incurred_rk AND rp.rk < s.incurred_rk + {months}\n  WHERE rp.rk = s.incurred_rk OR s.q > 0 OR rp.rk - s.incurred_rk + 1 <= s.r",
            units = d.money_to_units("ABS(t.c)", "pp.v", "pr.v"),
            q = d.int_div_exact(&format!("u.n - {}", d.int_mod("u.n", &m)), &m),
            r = d.int_mod("u.n", &m),
        )
    }

    /// The rows amortisation adds to cost_by_model: per schedule month, the model's row
    /// (`deferred` in month 1, minus what is deferred; `amortized` later) and the deferred
    /// balance's (`__deferred_training__`), which mirror each other.
    pub(super) fn amortised_rows(&self) -> String {
        let d = self.d;
        let money = |e: &str| d.units_to_money(e, "places");
        let text = d.text();
        let common = format!(
            "CAST(NULL AS {text}) AS rule_id, {{pool}} AS source_pool, CAST(NULL AS {money}) AS share,\n    {basis} AS cost_basis, CAST(0 AS {bigint}) AS source_rows\n  FROM schedule_months",
            money = d.money(),
            basis = d.lit(self.s.basis.name()),
            bigint = d.bigint(),
        );
        let model_row = format!(
            "  SELECT billing_period, model_id, team, 'training' AS lifecycle_phase,\n    {cost} AS cost, currency,\n    CASE WHEN j = 1 THEN 'deferred' ELSE 'amortized' END AS allocation_method,\n    {}",
            common.replace("{pool}", "'training:' || incurred_period"),
            cost = money("CASE WHEN j = 1 THEN -moved ELSE moved END"),
        );
        let deferred_row = format!(
            "  SELECT billing_period, {deferred} AS model_id, team, 'training' AS lifecycle_phase,\n    {cost} AS cost, currency, 'deferred' AS allocation_method,\n    {}",
            common.replace("{pool}", "'training:' || incurred_period || ':' || model_id"),
            deferred = d.lit(crate::allocate::amortize::DEFERRED_TRAINING),
            cost = money("CASE WHEN j = 1 THEN moved ELSE -moved END"),
        );
        format!("{model_row}\n  UNION ALL\n{deferred_row}")
    }
}

impl Query<'_> {
    /// The rows of training_amortization: each schedule as of the end of each of its months
    /// in the run, with the installment charged, the balance left and the months left.
    pub(super) fn training_amortization(&self) -> String {
        let d = self.d;
        let money = |e: &str| d.units_to_money(e, "places");
        let months = self.rules.training_months;
        let sign = "CASE WHEN c < 0 THEN -1 ELSE 1 END";
        let period = match &self.s.period {
            Some(p) => format!("WHERE billing_period = {}\n", d.lit(p)),
            None => String::new(),
        };
        format!(
            "SELECT billing_period, model_id, team, currency, incurred_period,\n  CAST(c AS {money_type}) AS incurred_cost,\n  {charged} AS charged,\n  {balance} AS balance_after,\n  CAST({months} - j AS {bigint}) AS months_remaining,\n  'months' AS method, CAST(NULL AS {text}) AS unit,\n  CAST(NULL AS {money_type}) AS planned_quantity, CAST(NULL AS {money_type}) AS served_quantity\nFROM schedule_months\n{period}ORDER BY billing_period, currency, model_id, incurred_period, team\n",
            charged = money(&format!(
                "{sign} * (q + CASE WHEN j <= r THEN 1 ELSE 0 END)"
            )),
            // charged through month j: j * q, and one more in each of the first r months
            balance = money(&format!(
                "{sign} * (n - (j * q + CASE WHEN j < r THEN j ELSE r END))"
            )),
            money_type = d.money(),
            bigint = d.bigint(),
            text = d.text(),
        )
    }
}
