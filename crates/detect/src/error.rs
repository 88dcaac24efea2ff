use thiserror::Error;

#[derive(Debug, Error)]
pub enum DetectError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: larger than {limit} bytes after decompression")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
    #[error("rule {origin}: {reason}")]
    Rule { origin: String, reason: String },
    /// A saved detector state that cannot be written, read or restored.
    #[error("detector state: {reason}")]
    State { reason: String },
}
