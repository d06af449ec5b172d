//! Git's smart HTTP protocol for the bare repositories under one folder, read-only: a
//! small HTTP/1.1 server in front of `git http-backend` (git's own CGI program), one
//! request per connection. What Flux's source-controller (go-git) and the git CLI fetch
//! with; nothing but git is needed at run time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use color_eyre::eyre::{Result, WrapErr, bail, eyre};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;

/// Requests larger than this are refused (a fetch's negotiation is a few kilobytes).
const MAX_BODY: usize = 64 << 20;
/// Longest request head accepted.
const MAX_HEAD: usize = 64 << 10;

/// One HTTP request as the CGI program needs it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// GET or POST.
    pub method: String,
    /// The path, percent-decoded, without the query.
    pub path: String,
    /// The query string, as sent.
    pub query: String,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Serves the repositories under `root` on `listener` until the process ends.
pub async fn serve(root: PathBuf, listener: TcpListener) -> Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let root = root.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(stream, peer, &root).await {
                eprintln!("git-server: {peer}: {e:#}");
            }
        });
    }
}

async fn handle(stream: TcpStream, peer: SocketAddr, root: &Path) -> Result<()> {
    let mut reader = BufReader::new(stream);
    let Some(mut request) = read_head(&mut reader).await? else { return Ok(()) };
    if request.header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue")) {
        reader.get_mut().write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    request.body = read_body(&mut reader, &request).await?;
    let (status, headers, payload) = match backend(root, &request, peer).await {
        Ok(answer) => answer,
        Err(e) => ("500 Internal Server Error".to_string(), vec![], format!("{e:#}\n").into_bytes()),
    };
    eprintln!("git-server: {peer} {} {} {status}", request.method, request.path);
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", payload.len()));
    let stream = reader.get_mut();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&payload).await?;
    stream.shutdown().await?;
    Ok(())
}

/// Reads the request line and headers; None when the peer closed before sending any.
pub async fn read_head(reader: &mut (impl AsyncBufRead + Unpin)) -> Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        bail!("bad request line {line:?}")
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request {
        method: method.to_string(),
        path: percent_decode(path),
        query: query.to_string(),
        ..Request::default()
    };
    let mut size = line.len();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            bail!("connection closed inside the request head");
        }
        size += line.len();
        if size > MAX_HEAD {
            bail!("request head over {MAX_HEAD} bytes");
        }
        let text = line.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            return Ok(Some(request));
        }
        if let Some((name, value)) = text.split_once(':') {
            request.headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
}

/// Reads the body: `Content-Length` bytes, or the chunks of a chunked one (git's own
/// client sends large requests chunked).
pub async fn read_body(reader: &mut (impl AsyncBufRead + Unpin), request: &Request) -> Result<Vec<u8>> {
    let chunked =
        request.header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if !chunked {
        let length: usize =
            request.header("content-length").map_or(Ok(0), str::parse).wrap_err("bad Content-Length")?;
        if length > MAX_BODY {
            bail!("request body of {length} bytes refused");
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        return Ok(body);
    }
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let size = line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16).map_err(|_| eyre!("bad chunk size {line:?}"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                if reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            bail!("request body over {MAX_BODY} bytes refused");
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).await?;
        line.clear();
        reader.read_line(&mut line).await?;
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs `git http-backend` for `request`; its status, headers and body.
async fn backend(
    root: &Path,
    request: &Request,
    peer: SocketAddr,
) -> Result<(String, Vec<(String, String)>, Vec<u8>)> {
    let mut command = Command::new("git");
    command
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &request.method)
        .env("PATH_INFO", &request.path)
        .env("QUERY_STRING", &request.query)
        .env("REMOTE_ADDR", peer.ip().to_string())
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("CONTENT_LENGTH", request.body.len().to_string());
    for (header, var) in [
        ("content-type", "CONTENT_TYPE"),
        ("git-protocol", "HTTP_GIT_PROTOCOL"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
    ] {
        if let Some(value) = request.header(header) {
            command.env(var, value);
        }
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .wrap_err("running `git http-backend`")?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let body = request.body.clone();
    // Written beside the read: a large answer must not wait on a full input pipe.
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let out = child.wait_with_output().await?;
    let _ = writer.await;
    if !out.stderr.is_empty() {
        eprint!("git-server: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(cgi_answer(&out.stdout))
}

/// Splits a CGI program's output into status, headers and body.
pub fn cgi_answer(output: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
    let split = find(output, b"\r\n\r\n").map(|i| (i, 4)).or_else(|| find(output, b"\n\n").map(|i| (i, 2)));
    let Some((at, len)) = split else {
        // http-backend failed before writing headers.
        return ("500 Internal Server Error".to_string(), vec![], output.to_vec());
    };
    let mut status = "200 OK".to_string();
    let mut headers = Vec::new();
    for line in String::from_utf8_lossy(&output[..at]).lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            status = value.to_string();
        } else if !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("connection") {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    (status, headers, output[at + len..].to_vec())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_output_becomes_status_headers_and_body() {
        let (status, headers, body) =
            cgi_answer(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope");
        assert_eq!(status, "404 Not Found");
        assert_eq!(headers, [("Content-Type".to_string(), "text/plain".to_string())]);
        assert_eq!(body, b"nope");
        let (status, _, body) = cgi_answer(b"Content-Type: x\n\n\x00\x01");
        assert_eq!((status.as_str(), body.as_slice()), ("200 OK", &b"\x00\x01"[..]));
        assert_eq!(cgi_answer(b"fatal").0, "500 Internal Server Error");
    }

    #[tokio::test]
    async fn chunked_and_sized_bodies_are_read_whole() {
        let raw = b"POST /r.git/git-upload-pack?x=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\nGit-Protocol: version=2\r\n\r\n4\r\nabcd\r\n3;ext\r\nefg\r\n0\r\n\r\n";
        let mut reader = BufReader::new(&raw[..]);
        let request = read_head(&mut reader).await.unwrap().unwrap();
        assert_eq!(
            (request.method.as_str(), request.path.as_str(), request.query.as_str()),
            ("POST", "/r.git/git-upload-pack", "x=1")
        );
        assert_eq!(request.header("git-protocol"), Some("version=2"));
        assert_eq!(read_body(&mut reader, &request).await.unwrap(), b"abcdefg");
        let raw = b"POST /a%20b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz";
        let mut reader = BufReader::new(&raw[..]);
        let request = read_head(&mut reader).await.unwrap().unwrap();
        assert_eq!(request.path, "/a b");
        assert_eq!(read_body(&mut reader, &request).await.unwrap(), b"xyz");
    }
}
