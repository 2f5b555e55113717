//! A minimal HTTP/1.1 client for the demo and the tests: one request per connection, signed
//! with a doorkey key when the route needs one.

use std::net::SocketAddr;

use doorkey::crypto::Signer;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{api, auth};

/// A server's answer.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// The server's address.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Client {
    /// Sends `method path` with `body`, signed by `signer` if given, and reads the answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        signer: Option<&(dyn Signer + Sync)>,
    ) -> std::io::Result<Answer> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        let kind = if body.first() == Some(&b'{') {
            "application/json"
        } else {
            "application/octet-stream"
        };
        head.push_str(&format!("Content-Type: {kind}\r\n"));
        if let Some(signer) = signer {
            let headers = auth::sign(signer, method, path, api::now(), body)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("\r\n");
        let mut stream = TcpStream::connect(self.addr).await?;
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        let bad = || std::io::Error::other("malformed HTTP answer");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(bad)?;
        let head = std::str::from_utf8(raw.get(..split).ok_or_else(bad)?).map_err(|_| bad())?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return Err(std::io::Error::other(
                "chunked answers are not read by this client",
            ));
        }
        Ok(Answer {
            status,
            body: raw.get(split + 4..).unwrap_or_default().to_vec(),
        })
    }

    /// `send` with a JSON body.
    pub async fn json(
        &self,
        method: &str,
        path: &str,
        body: &Value,
        signer: Option<&(dyn Signer + Sync)>,
    ) -> std::io::Result<Answer> {
        self.send(method, path, body.to_string().as_bytes(), signer)
            .await
    }
}
