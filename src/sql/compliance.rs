//! The `tag_compliance` query: per billing period, currency, resource, provider, account and
//! problem, the cost and rows whose raw tags (before any rule) miss a required key, carry a
//! value `[tags] allowed` does not list, disagree between source keys, or are not a JSON
//! object of scalars, exactly as `ledger::compliance` counts them.

use super::*;

impl Query<'_> {
    /// Per distinct tag text: whether it is malformed, and per required key i the number of
    /// distinct values (`n_i`, 2 or more is a conflict) and the value (`v_i`).
    pub(super) fn tag_checks(&self) -> String {
        let d = self.d;
        let mut cols = vec![format!(
            "MAX(CASE WHEN NOT ({}) OR p.nested THEN 1 ELSE 0 END) AS malformed",
            d.is_json_object("t.j")
        )];
        for (i, key) in self.tagger.required().iter().enumerate() {
            let k = d.lit(key);
            cols.push(format!(
                "COUNT(DISTINCT CASE WHEN p.tag_key = {k} THEN p.tag_value END) AS n_{i}"
            ));
            cols.push(format!(
                "MAX(CASE WHEN p.tag_key = {k} THEN p.tag_value END) AS v_{i}"
            ));
        }
        format!(
            "  SELECT t.tags,\n    {}\n  FROM tag_texts t\n  LEFT JOIN tag_pairs p ON p.tags = t.tags\n  GROUP BY t.tags",
            cols.join(",\n    ")
        )
    }

    /// Counted lines with their account and the checks of their tag text (none for a line
    /// without tags: every required key is then missing).
    pub(super) fn checked_lines(&self) -> String {
        let mut cols = vec!["k.malformed".to_string()];
        for i in 0..self.tagger.required().len() {
            cols.push(format!("k.n_{i}, k.v_{i}"));
        }
        format!(
            "  SELECT c.billing_period, c.currency, c.resource_id, c.provider,\n    COALESCE(c.sub_account_id, c.billing_account_id) AS account, c.cost, c.source_rows,\n    {}\n  FROM counted c\n  LEFT JOIN tag_checks k ON k.tags = c.tags",
            cols.join(", ")
        )
    }

    /// The rows of tag_compliance: each checked line read once, crossed with the list of
    /// checks (0: malformed, i + 1: required key i), summed per problem.
    pub(super) fn tag_compliance(&self) -> String {
        let d = self.d;
        let mut whens = vec![format!(
            "      WHEN 0 THEN CASE WHEN malformed = 1 THEN {} END",
            d.lit("malformed:tags")
        )];
        for (i, key) in self.tagger.required().iter().enumerate() {
            let code = |kind: &str| d.lit(&format!("{kind}:{key}"));
            // a malformed text has no values; a conflict has none either
            let invalid = match self.tagger.allowed().get(key) {
                // an empty list allows no value (and `NOT IN ()` is no SQL)
                Some(values) if values.is_empty() => {
                    format!("\n        ELSE {}", code("invalid"))
                }
                Some(values) => {
                    let list: Vec<String> = values.iter().map(|v| d.lit(v)).collect();
                    format!(
                        "\n        WHEN v_{i} NOT IN ({}) THEN {}",
                        list.join(", "),
                        code("invalid")
                    )
                }
                None => String::new(),
            };
            whens.push(format!(
                "      WHEN {check} THEN CASE\n        WHEN COALESCE(malformed, 0) = 1 THEN {missing}\n        WHEN n_{i} > 1 THEN {conflict}\n        WHEN v_{i} IS NULL THEN {missing}{invalid}\n      END",
                check = i + 1,
                missing = code("missing"),
                conflict = code("conflict"),
            ));
        }
        let checks: Vec<String> = (0..whens.len())
            .map(|i| format!("SELECT {i} AS i"))
            .collect();
        format!(
            "SELECT billing_period, resource_id, provider, account, problem,\n  CAST(SUM(cost) AS {money}) AS cost_affected, currency,\n  CAST(SUM(source_rows) AS {bigint}) AS source_rows\nFROM (\n  SELECT billing_period, currency, resource_id, provider, account, cost, source_rows,\n    CASE checks.i\n{whens}\n    END AS problem\n  FROM checked_lines\n  CROSS JOIN ({checks}) checks\n) x\nWHERE problem IS NOT NULL\nGROUP BY billing_period, currency, resource_id, provider, account, problem\nORDER BY billing_period, currency, resource_id NULLS FIRST, provider NULLS FIRST,\n  account NULLS FIRST, problem\n",
            whens = whens.join("\n"),
            checks = checks.join(" UNION ALL "),
            money = d.money(),
            bigint = d.bigint(),
        )
    }
}
