//! Strict JSON input for server functions.
//!
//! serde ignores unknown fields by default and its messages mention line and column,
//! not the field. Every server function takes its input through [`StrictJson`], which
//! refuses unknown fields and reports the first bad field by name, so that a malformed
//! request gets a clear error and changes nothing.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use server_fn::codec::Post;
use server_fn::{ContentType, Decodes, Encodes, Format, FormatType};

/// Input codec: a JSON object in a POST body, decoded strictly.
pub struct StrictJsonEncoding;

/// Use as `#[server(input = StrictJson, output = Json)]`.
pub type StrictJson = Post<StrictJsonEncoding>;

impl ContentType for StrictJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for StrictJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for StrictJsonEncoding {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for StrictJsonEncoding {
    type Error = InputError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        decode_strict(&bytes)
    }
}

/// A field-named decoding failure. It travels through server_fn as a message string
/// (see [`InputError::from_message`]) and becomes `ApiError::Invalid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub field: String,
    pub message: String,
}

const MESSAGE_PREFIX: &str = "latchkey-invalid-input";

impl InputError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Recovers the error from the message server_fn wraps it in.
    pub fn from_message(message: &str) -> Option<Self> {
        let start = message.find(MESSAGE_PREFIX)?;
        let rest = message[start + MESSAGE_PREFIX.len()..].strip_prefix('|')?;
        let (field, message) = rest.split_once('|')?;
        Some(Self::new(field, message))
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{MESSAGE_PREFIX}|{}|{}", self.field, self.message)
    }
}

/// Decodes `bytes` into `T`, refusing unknown fields and naming the field at fault.
pub fn decode_strict<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, InputError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(InputError::new(
            "body",
            "The request is not valid UTF-8 text.",
        ));
    }
    // Arguments are always a JSON object; serde would also take `[]` for a struct.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(InputError::new(
            "body",
            "The request must be a JSON object.",
        ));
    }
    let mut unknown: Option<String> = None;
    let mut note_unknown = |path: serde_ignored::Path<'_>| {
        if unknown.is_none() {
            unknown = Some(path.to_string());
        }
    };
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let ignored = serde_ignored::Deserializer::new(&mut json, &mut note_unknown);
    let result: Result<T, _> = serde_path_to_error::deserialize(ignored);
    let value = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        describe(&path, &inner)
    })?;
    json.end()
        .map_err(|_| InputError::new("body", "The request has data after its end."))?;
    if let Some(field) = unknown {
        return Err(InputError::new(field, "This field is not recognised."));
    }
    Ok(value)
}

fn describe(path: &str, e: &serde_json::Error) -> InputError {
    use serde_json::error::Category;
    let text = e.to_string();
    // "missing field `x`" is reported at the parent; name the missing field itself.
    if let Some(name) = text
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let field = if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return InputError::new(field, "This field is required.");
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    match e.classify() {
        Category::Syntax | Category::Eof => {
            InputError::new("body", "The request is not valid JSON.")
        }
        Category::Data => InputError::new(field, "This field has the wrong type or value."),
        Category::Io => InputError::new("body", "The request could not be read."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct SignIn {
        username: String,
        password: String,
    }

    #[test]
    fn well_formed_input_decodes() {
        let v: SignIn = decode_strict(br#"{"username":"a","password":"b"}"#).unwrap();
        assert_eq!(v.username, "a");
    }

    #[test]
    fn each_failure_names_its_field() {
        let cases: &[(&[u8], &str)] = &[
            (br#"{"username":"a","password":"b","admin":true}"#, "admin"),
            (br#"{"username":"a"}"#, "password"),
            (br#"{"username":1,"password":"b"}"#, "username"),
            (br#"{"username":"a","#, "body"),
            (b"{\"username\":\"\xff\",\"password\":\"b\"}", "body"),
            (br#"{"username":"a","password":"b"} trailing"#, "body"),
            (b"[]", "body"),
        ];
        for (input, field) in cases {
            let err = decode_strict::<SignIn>(input).unwrap_err();
            assert_eq!(
                err.field,
                *field,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn the_message_survives_the_trip_through_server_fn() {
        let e = InputError::new("username", "This field is required.");
        let wrapped = format!("error deserializing server function arguments: {e}");
        assert_eq!(InputError::from_message(&wrapped), Some(e));
    }
}
