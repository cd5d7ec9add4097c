//! The Amazon Athena engine of the trail archive: the table DDL (`ddl`), the SQL that selects candidate records
//! where the data lives (`query`), and the result rows turned back into the native scan's events (`rows`).
//!
//! Design: the table has one row per log file (the whole `{"Records": [...]}` document as one string column),
//! partitioned by projection over the archive layout. The query unnests the records, keeps a *superset* of what
//! the native prefilter keeps, and returns each record as JSON; the rows are then fed to the very extractor the
//! native scan uses (`super::extract::extract_json`), so fields, selection and damage accounting cannot drift.
//!
//! Pure text and data: no AWS SDK types and no I/O here (the calls are in `crate::collect::athena`).

pub mod coverage;
pub mod ddl;
pub mod query;
pub mod rows;

/// `DB.TABLE` as given to `--athena-table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub database: String,
    pub table: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AthenaError {
    #[error("athena table {0:?}: expected DB.TABLE (letters, digits and _ only in each part)")]
    TableName(String),
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl TableName {
    /// Parses `DB.TABLE`; only plain identifiers, so that the name can be put in SQL without escaping.
    pub fn parse(text: &str) -> Result<TableName, AthenaError> {
        match text.split_once('.') {
            Some((db, table)) if is_identifier(db) && is_identifier(table) => Ok(TableName {
                database: db.to_ascii_lowercase(),
                table: table.to_ascii_lowercase(),
            }),
            _ => Err(AthenaError::TableName(text.to_owned())),
        }
    }

    /// `"db"."table"`.
    pub fn quoted(&self) -> String {
        format!("\"{}\".\"{}\"", self.database, self.table)
    }
}

/// A SQL string literal (single quotes doubled).
pub(crate) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        let t = TableName::parse("Audit.CloudTrail_Raw").expect("valid");
        assert_eq!(t.database, "audit");
        assert_eq!(t.quoted(), "\"audit\".\"cloudtrail_raw\"");
        for bad in ["audit", "a.b.c", ".t", "d.", "d.t;drop", "d.\"t\""] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(literal("it's"), "'it''s'");
    }
}
