//! Territories as sets of communes: the communes an organisation covers at a date, and the
//! organisations covering any of a set of communes.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};

use crate::error::AppResult;

#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

const VALID_AT_2: &str =
    "(m.valid_from IS NULL OR m.valid_from <= $2) AND (m.valid_to IS NULL OR m.valid_to > $2)";

/// The communes organisation `org` covers at `at`: itself if it is a commune, else the
/// communes below it through any chain of memberships (members, locations).
pub async fn communes_of<C: ConnectionTrait>(
    db: &C,
    org: i64,
    at: NaiveDate,
) -> AppResult<Vec<i64>> {
    let sql = format!(
        "WITH RECURSIVE down(id, depth) AS ( \
           SELECT CAST($1 AS BIGINT), 0 \
           UNION \
           SELECT m.member_id, down.depth + 1 FROM membership m JOIN down ON m.group_id = down.id \
           WHERE {VALID_AT_2} AND down.depth < 6 \
         ) \
         SELECT DISTINCT o.id FROM down JOIN organisation o ON o.id = down.id \
         WHERE o.kind = 'COMMUNE' ORDER BY o.id"
    );
    let stmt =
        Statement::from_sql_and_values(db.get_database_backend(), sql, [org.into(), at.into()]);
    Ok(Id::find_by_statement(stmt)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Every organisation any of `communes` belongs to at `at` (directly or not), and the
/// communes themselves.
pub async fn groups_of<C: ConnectionTrait>(
    db: &C,
    communes: &[i64],
    at: NaiveDate,
) -> AppResult<Vec<i64>> {
    if communes.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..communes.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "WITH RECURSIVE up(id, depth) AS ( \
           SELECT o.id, 0 FROM organisation o WHERE o.id IN ({}) AND o.id <> $1 \
           UNION \
           SELECT m.group_id, up.depth + 1 FROM membership m JOIN up ON m.member_id = up.id \
           WHERE {VALID_AT_2} AND up.depth < 6 \
         ) \
         SELECT DISTINCT id FROM up ORDER BY id",
        placeholders.join(", ")
    );
    // $1 is a sentinel no id equals: it keeps the numbering of the others fixed.
    let mut values: Vec<Value> = vec![(-1i64).into(), at.into()];
    values.extend(communes.iter().map(|&c| Value::from(c)));
    let stmt = Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    Ok(Id::find_by_statement(stmt)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}
