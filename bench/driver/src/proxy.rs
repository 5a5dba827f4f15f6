//! A counting proxy between the measured programs and the server: it
//! forwards bytes unchanged and counts what crosses it.
//!
//! - **Round trips**: each time the client sends after the server had the
//!   last word (or sends first) the client has waited for an answer. The
//!   counts are taken before the bytes are forwarded, so an answer can never
//!   be seen before the request that caused it. A final `Terminate`, which
//!   waits for nothing, is not counted.
//! - **Messages** the client sends, by type: `Q` (a simple query, which may
//!   hold many statements), `P`/`B`/`E`/`S` (parse, bind, execute, sync of the
//!   extended protocol), and so on. `Q` + `E` is what the server's
//!   `log_statement = all` logs, one entry each.
//! - **Bytes** each way.
//!
//! It can also stand for a slow link: given a one-way delay, it delivers
//! each chunk of bytes it reads, in each direction, that long after it read
//! it, in the order read, so that every round trip costs twice the delay and
//! bytes in flight are not held back by the ones before them. The delay is
//! waited with `std::thread::sleep` in a thread of each direction that only
//! writes; a chunk is written once its time has come.
//!
//! The counting runs, which are not timed, go through it without a delay; the
//! timed runs of the slow link go through it with theirs. The other timed
//! runs connect to the server directly.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Where the server listens.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// The socket file, e.g. `/tmp/x/.s.PGSQL.5432`.
    Unix(PathBuf),
    Tcp(String, u16),
}

/// What crossed the proxy since the last [`Proxy::take`].
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub connections: u64,
    pub round_trips: u64,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    /// Client messages by type byte; `startup` for the untyped first ones.
    pub messages: BTreeMap<String, u64>,
    /// The text of the first [`KEPT_QUERIES`] simple queries.
    pub queries: Vec<String>,
}

/// How many simple queries' text [`Counts::queries`] keeps.
pub const KEPT_QUERIES: usize = 8;

impl Counts {
    pub fn messages(&self, kind: &str) -> u64 {
        self.messages.get(kind).copied().unwrap_or(0)
    }

    /// Simple queries plus extended-protocol executions: what
    /// `log_statement = all` logs.
    pub fn statements(&self) -> u64 {
        self.messages("Q") + self.messages("E")
    }

    /// The message counts as `Q=3 P=1 ...`.
    pub fn message_summary(&self) -> String {
        let order = ["Q", "P", "B", "D", "E", "S", "C", "H", "X", "startup"];
        let mut parts: Vec<String> = order
            .iter()
            .filter(|k| self.messages(k) > 0)
            .map(|k| format!("{k}={}", self.messages(k)))
            .collect();
        for (k, v) in &self.messages {
            if !order.contains(&k.as_str()) {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.join(" ")
    }
}

/// The proxy: a Unix socket in a folder of its own, named as PostgreSQL
/// names its sockets, so clients connect to it as to a server.
pub struct Proxy {
    dir: PathBuf,
    counts: Arc<Mutex<Counts>>,
}

/// Numbers the proxies of this process, each in a folder of its own.
static STARTED: AtomicUsize = AtomicUsize::new(0);

impl Proxy {
    /// Listens on `<new folder>/.s.PGSQL.<port>` and forwards to `upstream`,
    /// delivering what it reads `one_way` later in each direction (a round
    /// trip of twice that); `Duration::ZERO` forwards at once.
    pub fn start(upstream: Upstream, port: u16, one_way: Duration) -> io::Result<Proxy> {
        let dir = std::env::temp_dir().join(format!(
            "stowage-bench-proxy-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let listener = UnixListener::bind(dir.join(format!(".s.PGSQL.{port}")))?;
        let counts = Arc::new(Mutex::new(Counts::default()));
        let shared = Arc::clone(&counts);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counts = Arc::clone(&shared);
                let upstream = upstream.clone();
                thread::spawn(move || {
                    if let Err(e) = forward(client, &upstream, &counts, one_way) {
                        eprintln!("proxy: {e}");
                    }
                });
            }
        });
        Ok(Proxy { dir, counts })
    }

    /// The folder to give clients as their host.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The counts so far, which start again from zero.
    pub fn take(&self) -> Counts {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Either kind of server connection, for reading and writing.
trait Stream: Read + Write + Send {
    fn try_clone_box(&self) -> io::Result<Box<dyn Stream>>;
}

impl Stream for UnixStream {
    fn try_clone_box(&self) -> io::Result<Box<dyn Stream>> {
        Ok(Box::new(self.try_clone()?))
    }
}

impl Stream for TcpStream {
    fn try_clone_box(&self) -> io::Result<Box<dyn Stream>> {
        Ok(Box::new(self.try_clone()?))
    }
}

/// One connection's state, shared by its two directions.
struct Connection {
    /// Whether the client's next bytes start a new burst.
    burst_starts: bool,
    parser: ClientParser,
}

fn forward(
    client: UnixStream,
    upstream: &Upstream,
    counts: &Arc<Mutex<Counts>>,
    one_way: Duration,
) -> io::Result<()> {
    let server: Box<dyn Stream> = match upstream {
        Upstream::Unix(path) => Box::new(UnixStream::connect(path)?),
        Upstream::Tcp(host, port) => {
            let stream = TcpStream::connect((host.as_str(), *port))?;
            stream.set_nodelay(true)?;
            Box::new(stream)
        }
    };
    counts.lock().unwrap_or_else(|p| p.into_inner()).connections += 1;
    let state = Arc::new(Mutex::new(Connection {
        burst_starts: true,
        parser: ClientParser::default(),
    }));

    // Server to client, on a thread of its own.
    let (mut from_server, mut to_client) = (server.try_clone_box()?, client.try_clone()?);
    let (down_state, down_counts) = (Arc::clone(&state), Arc::clone(counts));
    let down = thread::spawn(move || {
        pump(
            &mut *from_server,
            &mut to_client,
            one_way,
            |bytes| {
                down_counts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .bytes_to_client += bytes.len() as u64;
            },
            // Marked as the bytes reach the client, not as they leave the
            // server: what the client sends before then did not wait for them.
            |_| {
                down_state
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .burst_starts = true
            },
        );
        let _ = to_client.shutdown(std::net::Shutdown::Both);
    });

    // Client to server, here.
    let (mut from_client, mut to_server) = (client, server);
    pump(
        &mut from_client,
        &mut *to_server,
        one_way,
        |bytes| {
            let mut conn = state.lock().unwrap_or_else(|p| p.into_inner());
            let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
            let new_burst = conn.burst_starts;
            conn.burst_starts = false;
            counts.bytes_to_server += bytes.len() as u64;
            let first = conn.parser.feed(bytes, &mut counts);
            // A burst that is only the final Terminate waits for nothing.
            if new_burst && first.as_deref() != Some("X") {
                counts.round_trips += 1;
            }
        },
        |_| {},
    );
    drop(to_server); // closes the server side; the other thread then ends
    let _ = down.join();
    Ok(())
}

/// Copies until end of input or an error: calls `read` on each chunk as it
/// is read, and `deliver` just before it is written, `one_way` after it was
/// read. With a delay, a thread of its own writes, so that reading goes on
/// meanwhile; the chunks keep their order.
fn pump(
    from: &mut dyn Read,
    to: &mut (dyn Write + Send),
    one_way: Duration,
    mut read: impl FnMut(&[u8]),
    mut deliver: impl FnMut(&[u8]) + Send,
) {
    let mut buf = vec![0u8; 64 * 1024];
    if one_way.is_zero() {
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    read(&buf[..n]);
                    deliver(&buf[..n]);
                    if to.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    }
    let (send, receive) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::scope(|scope| {
        scope.spawn(move || {
            for (due, chunk) in receive {
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
                deliver(&chunk);
                if to.write_all(&chunk).is_err() {
                    return;
                }
            }
        });
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    read(&buf[..n]);
                    if send
                        .send((Instant::now() + one_way, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // The writer delivers what is left, then ends.
        drop(send);
    });
}

/// Splits the client's byte stream into messages. The first messages have no
/// type byte: an optional SSL or GSS encryption request, then the startup
/// message. Every later one is a type byte and a length.
#[derive(Default)]
struct ClientParser {
    pending: Vec<u8>,
    started: bool,
}

const SSL_REQUEST: u32 = 80_877_103;
const GSS_REQUEST: u32 = 80_877_104;

impl ClientParser {
    /// Counts the messages completed by `bytes` into `counts`; returns the type of the
    /// first message that begins in them, if one does.
    fn feed(&mut self, bytes: &[u8], counts: &mut Counts) -> Option<String> {
        let at_boundary = self.pending.is_empty();
        self.pending.extend_from_slice(bytes);
        let mut first = None;
        let mut at = 0;
        loop {
            let rest = &self.pending[at..];
            let kind;
            let len;
            if self.started {
                if rest.len() < 5 {
                    break;
                }
                kind = (rest[0] as char).to_string();
                len = 1 + u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            } else {
                if rest.len() < 8 {
                    break;
                }
                len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                let code = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]);
                kind = match code {
                    SSL_REQUEST => "ssl-request".to_owned(),
                    GSS_REQUEST => "gss-request".to_owned(),
                    _ => "startup".to_owned(),
                };
            }
            if first.is_none() && at_boundary {
                first = Some(kind.clone());
            }
            if rest.len() < len {
                break;
            }
            if kind == "startup" {
                self.started = true;
            }
            if kind == "Q" && counts.queries.len() < KEPT_QUERIES {
                // The text runs from after the length to before the final NUL.
                let text = &rest[5..len.saturating_sub(1).max(5)];
                counts
                    .queries
                    .push(String::from_utf8_lossy(text).into_owned());
            }
            *counts.messages.entry(kind).or_default() += 1;
            at += len;
        }
        self.pending.drain(..at);
        first
    }
}
