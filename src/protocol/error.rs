use std::fmt;

/// Why an incoming message was not delivered. Every variant leaves the
/// connection serving: one bad message never stops the good ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    NotJson(String),
    /// Valid JSON, but not an object.
    NotAnObject,
    TooLarge {
        bytes: usize,
        limit: usize,
    },
    TooDeep {
        limit: usize,
    },
    MissingField(&'static str),
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    /// A `send` named an operation the protocol does not have; the asker
    /// receives a rejection saying so.
    UnknownOperation(String),
    /// The connection was closed; nothing more is delivered.
    Closed,
    /// A call arrived while `limit` calls from the peer were being served.
    TooManyPendingCalls {
        limit: usize,
    },
    /// An export would exceed the bound on live exports.
    TooManyExports {
        limit: usize,
    },
}

impl ProtocolError {
    pub(crate) fn from_json(error: &serde_json::Error) -> Self {
        match error.classify() {
            serde_json::error::Category::Data => {
                ProtocolError::NotJson(format!("not a message object ({error})"))
            }
            _ => ProtocolError::NotJson(error.to_string()),
        }
    }

    /// A short stable name, for counters and the host's error reports.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::NotJson(_) | ProtocolError::NotAnObject => "EMALFORMED",
            ProtocolError::TooLarge { .. } => "ETOOLARGE",
            ProtocolError::TooDeep { .. } => "ETOODEEP",
            ProtocolError::MissingField(_) | ProtocolError::WrongType { .. } => "EFIELD",
            ProtocolError::UnknownOperation(_) => "EOPERATION",
            ProtocolError::Closed => "ECLOSED",
            ProtocolError::TooManyPendingCalls { .. } | ProtocolError::TooManyExports { .. } => {
                "ELIMIT"
            }
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::NotJson(detail) => write!(f, "message is not JSON: {detail}"),
            ProtocolError::NotAnObject => write!(f, "message is not a JSON object"),
            ProtocolError::TooLarge { bytes, limit } => {
                write!(
                    f,
                    "message of {bytes} bytes exceeds the limit of {limit} bytes"
                )
            }
            ProtocolError::TooDeep { limit } => {
                write!(f, "message nests deeper than {limit} levels")
            }
            ProtocolError::MissingField(field) => write!(f, "field \"{field}\" is missing"),
            ProtocolError::WrongType { field, expected } => {
                write!(f, "field \"{field}\" must be {expected}")
            }
            ProtocolError::UnknownOperation(op) => write!(f, "unknown operation \"{op}\""),
            ProtocolError::Closed => write!(f, "connection is closed"),
            ProtocolError::TooManyPendingCalls { limit } => {
                write!(
                    f,
                    "too many pending calls: the limit of {limit} calls served at once is reached"
                )
            }
            ProtocolError::TooManyExports { limit } => {
                write!(
                    f,
                    "too many exported references: the limit of {limit} is reached"
                )
            }
        }
    }
}

impl std::error::Error for ProtocolError {}
