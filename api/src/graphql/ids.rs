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
    /// A mandate to act for an organisation.
    Mandate,
    /// A referral of a person's request.
    Referral,
    /// A territorial project.
    TerritorialProject,
    /// An action of a territorial project.
    ProjectAction,
    /// An indicator of a territorial project.
    Indicator,
    /// A measurement of an indicator.
    Measurement,
}

/// Every node type, in declaration order.
const ALL: [NodeType; 14] = [
    NodeType::Organisation,
    NodeType::ContactPoint,
    NodeType::AuditRecord,
    NodeType::Assignment,
    NodeType::Transfer,
    NodeType::Resource,
    NodeType::Reservation,
    NodeType::Agreement,
    NodeType::Mandate,
    NodeType::Referral,
    NodeType::TerritorialProject,
    NodeType::ProjectAction,
    NodeType::Indicator,
    NodeType::Measurement,
];

impl NodeType {
    /// The node type named `name` (the GraphQL type name, as the audit trail and the change
    /// feed store it).
    pub fn from_name(name: &str) -> Option<NodeType> {
        ALL.into_iter().find(|t| t.prefix() == name)
    }

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
            NodeType::Mandate => "Mandate",
            NodeType::Referral => "Referral",
            NodeType::TerritorialProject => "TerritorialProject",
            NodeType::ProjectAction => "ProjectAction",
            NodeType::Indicator => "Indicator",
            NodeType::Measurement => "Measurement",
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
    let kind = NodeType::from_name(prefix).ok_or_else(bad)?;
    Ok((kind, n))
}

/// The node type of the ids a snapshot field holds (audit records' `before` and `after`).
fn type_of_field(key: &str) -> Option<NodeType> {
    Some(match key {
        "organisationId" | "ownerId" | "fromId" | "toId" | "locationId" | "requesterId"
        | "draftedById" | "partyId" | "memberId" | "groupId" | "scope" | "members"
        | "territories" | "organisations" | "grantorId" | "granteeId" | "communeId" | "filerId"
        | "handlerId" => NodeType::Organisation,
        "resourceId" | "resources" => NodeType::Resource,
        "agreementId" => NodeType::Agreement,
        "transferId" => NodeType::Transfer,
        "reservationId" => NodeType::Reservation,
        "assignmentId" => NodeType::Assignment,
        _ => return None,
    })
}

/// A stored snapshot with every internal id replaced by its global ID, so that clients see
/// the same IDs everywhere.
pub fn globalise(value: serde_json::Value) -> serde_json::Value {
    globalise_as(value, None)
}

fn globalise_as(value: serde_json::Value, kind: Option<NodeType>) -> serde_json::Value {
    use serde_json::Value as J;
    match (value, kind) {
        (J::Number(n), Some(kind)) => match n.as_i64() {
            Some(id) => J::String(encode(kind, id).0),
            None => J::Number(n),
        },
        (J::Array(items), kind) => {
            J::Array(items.into_iter().map(|v| globalise_as(v, kind)).collect())
        }
        (J::Object(fields), _) => J::Object(
            fields
                .into_iter()
                .map(|(k, v)| {
                    let kind = type_of_field(&k);
                    (k, globalise_as(v, kind))
                })
                .collect(),
        ),
        (other, _) => other,
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
