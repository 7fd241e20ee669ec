//! Opaque global IDs: `base64("Type:id")`.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};

/// The types that can be fetched with `node(id:)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    /// An organisation.
    Organisation,
    /// A contact point.
    ContactPoint,
    /// An audit record.
    AuditRecord,
    /// A declared competence assignment.
    Assignment,
    /// A competence transfer.
    Transfer,
    /// A shared resource.
    Resource,
    /// A reservation of a resource.
    Reservation,
    /// An agreement between organisations.
    Agreement,
}

impl NodeType {
    fn prefix(self) -> &'static str {
        match self {
            NodeType::Organisation => "Organisation",
            NodeType::ContactPoint => "ContactPoint",
            NodeType::AuditRecord => "AuditRecord",
            NodeType::Assignment => "Assignment",
            NodeType::Transfer => "Transfer",
            NodeType::Resource => "Resource",
            NodeType::Reservation => "Reservation",
            NodeType::Agreement => "Agreement",
        }
    }
}

/// The global ID of a row.
pub fn encode(kind: NodeType, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.prefix())))
}

/// Decodes a global ID; `argument` names the input in the error.
pub fn decode(argument: &str, id: &str) -> AppResult<(NodeType, i64)> {
    let bad = || AppError::bad_input(argument, format!("`{id}` is not an ID this API issued"));
    let raw = URL_SAFE_NO_PAD.decode(id).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (prefix, rest) = text.split_once(':').ok_or_else(bad)?;
    let n: i64 = rest.parse().map_err(|_| bad())?;
    match prefix {
        "Organisation" => Ok((NodeType::Organisation, n)),
        "ContactPoint" => Ok((NodeType::ContactPoint, n)),
        "AuditRecord" => Ok((NodeType::AuditRecord, n)),
        "Assignment" => Ok((NodeType::Assignment, n)),
        "Transfer" => Ok((NodeType::Transfer, n)),
        "Resource" => Ok((NodeType::Resource, n)),
        "Reservation" => Ok((NodeType::Reservation, n)),
        "Agreement" => Ok((NodeType::Agreement, n)),
        _ => Err(bad()),
    }
}

/// Decodes a global ID that must be of type `expected`.
pub fn decode_as(argument: &str, id: &str, expected: NodeType) -> AppResult<i64> {
    match decode(argument, id)? {
        (kind, n) if kind == expected => Ok(n),
        _ => Err(AppError::bad_input(
            argument,
            format!("`{id}` is not the ID of a {}", expected.prefix()),
        )),
    }
}
