//! Every error text a client can see, defined once.
//!
//! Handlers return `Result<(), CmdError>` and use `?`; only the dispatcher
//! turns an error into a `-...` reply line. `Display` gives the exact line
//! Redis 7.0 sends, without the leading `-` and the CRLF.

use std::fmt;

/// A command failed; the reply is this error's text.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    /// The key holds a value of another type.
    WrongType,
    /// Options that do not parse or do not combine.
    Syntax,
    /// An argument that should be an integer is not, or is out of range.
    NotInteger,
    /// An argument that should be a float is not.
    NotFloat,
    /// INCR/DECR family would overflow i64.
    Overflow,
    /// The key does not exist (RENAME, LSET ...).
    NoSuchKey,
    /// An index out of the list's range (LSET).
    IndexOutOfRange,
    /// SELECT/MOVE/SWAPDB with a database number that does not exist.
    DbIndexOutOfRange,
    /// EXPIRE/SET with an expire time that is not valid; names the command.
    InvalidExpire(&'static str),
    /// Wrong argument count; names the command in lowercase.
    WrongArity(String),
    /// A command that needs authentication first.
    NoAuth,
    /// AUTH with a bad password.
    WrongPass,
    /// `-ERR <text>`: any other ERR-class error.
    Err(String),
    /// A complete error line with its own prefix (for example `NOPERM ...`).
    Raw(String),
    /// The error a script raised or returned, a complete line like
    /// [`CmdError::Raw`]: the script ran, so it is a failed call even when
    /// its text is an OOM or NOPERM of a command inside it. `counted`: the
    /// error came from a command the script called, which already counted
    /// it in errorstats, so the script's reply does not count it again.
    Script { text: String, counted: bool },
    /// Writes refused because RDB saving fails (stop-writes-on-bgsave-error).
    MisConf,
}

/// The result of a command handler.
pub type CmdResult = Result<(), CmdError>;

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CmdError::Syntax => f.write_str("ERR syntax error"),
            CmdError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CmdError::NotFloat => f.write_str("ERR value is not a valid float"),
            CmdError::Overflow => f.write_str("ERR increment or decrement would overflow"),
            CmdError::NoSuchKey => f.write_str("ERR no such key"),
            CmdError::IndexOutOfRange => f.write_str("ERR index out of range"),
            CmdError::DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            CmdError::InvalidExpire(cmd) => write!(f, "ERR invalid expire time in '{cmd}' command"),
            CmdError::WrongArity(cmd) => {
                write!(f, "ERR wrong number of arguments for '{cmd}' command")
            }
            CmdError::NoAuth => f.write_str("NOAUTH Authentication required."),
            CmdError::WrongPass => {
                f.write_str("WRONGPASS invalid username-password pair or user is disabled.")
            }
            CmdError::Err(text) => write!(f, "ERR {text}"),
            CmdError::Raw(text) | CmdError::Script { text, .. } => f.write_str(text),
            CmdError::MisConf => f.write_str("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."),
        }
    }
}

impl CmdError {
    /// `ERR <text>` from anything printable.
    pub fn err(text: impl Into<String>) -> Self {
        CmdError::Err(text.into())
    }

    /// True for the errors of commands refused before they ran (arity,
    /// authentication, ACL, OOM, MISCONF, LOADING): Redis counts them as
    /// `rejected_calls`, not as calls.
    pub fn is_rejection(&self) -> bool {
        match self {
            CmdError::WrongArity(_) | CmdError::NoAuth | CmdError::MisConf => true,
            CmdError::Raw(text) => {
                text.starts_with("NOPERM") || text.starts_with("OOM") || text.starts_with("LOADING")
            }
            _ => false,
        }
    }

    /// The error code Redis counts in INFO errorstats (the first word).
    pub fn code(&self) -> String {
        let line = self.to_string();
        line.split(' ').next().unwrap_or("ERR").to_string()
    }
}
