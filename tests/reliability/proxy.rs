//! A proxy between a client and a server listening on a Unix socket, whose
//! connections can be cut as a network fault cuts them: the client sees its
//! connection closed while the server's session goes on with what it had
//! received. It passes the client's messages on whole, so that it can cut a
//! connection right after a chosen query went out, before any reply came
//! back ([`Proxy::cut_once_sent`]).

use postgres::Config;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A running proxy; dropping it cuts its connections and removes its socket.
pub struct Proxy {
    dir: PathBuf,
    socket: PathBuf,
    clients: Arc<Mutex<Vec<UnixStream>>>,
    closed: Arc<AtomicBool>,
    armed: Armed,
}

/// The text of the query after which to cut its connection, when armed.
type Armed = Arc<Mutex<Option<String>>>;

impl Proxy {
    /// A proxy to the server of `config`, or `None` if it is not reached
    /// through a Unix socket.
    pub fn start(config: &Config) -> Option<Proxy> {
        let dir = match config.get_hosts() {
            [postgres::config::Host::Unix(dir)] => dir.clone(),
            _ => return None,
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let socket = format!(".s.PGSQL.{port}");
        let server = dir.join(&socket);
        let own = std::env::temp_dir().join(format!(
            "stowage-proxy-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&own).unwrap();
        let own_socket = own.join(&socket);
        let listener = UnixListener::bind(&own_socket).unwrap();
        let clients = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(AtomicBool::new(false));
        let armed: Armed = Arc::new(Mutex::new(None));
        let accepted = Arc::clone(&clients);
        let done = Arc::clone(&closed);
        let trigger = Arc::clone(&armed);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                if done.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(upstream) = UnixStream::connect(&server) else {
                    return;
                };
                accepted.lock().unwrap().push(client.try_clone().unwrap());
                forward(
                    client.try_clone().unwrap(),
                    upstream.try_clone().unwrap(),
                    Arc::clone(&trigger),
                );
                pipe(upstream, client);
            }
        });
        Some(Proxy {
            dir: own,
            socket: own_socket,
            clients,
            closed,
            armed,
        })
    }

    /// The settings of `config` (user, password, database), connecting
    /// through the proxy.
    pub fn config(&self, config: &Config) -> Config {
        let mut through = Config::new();
        through.host_path(&self.dir);
        if let Some(port) = config.get_ports().first() {
            through.port(*port);
        }
        if let Some(user) = config.get_user() {
            through.user(user);
        }
        if let Some(password) = config.get_password() {
            through.password(password);
        }
        if let Some(dbname) = config.get_dbname() {
            through.dbname(dbname);
        }
        through
    }

    /// Cuts every connection on the client's side.
    pub fn cut(&self) {
        for client in self.clients.lock().unwrap().iter() {
            let _ = client.shutdown(Shutdown::Both);
        }
    }

    /// Arms the proxy: the next simple query whose text holds `part` is the
    /// last its connection carries. Its client's side is cut first, then the
    /// query is passed on whole, then the server's side is closed: the
    /// server has the whole query and runs it, and its client sees the
    /// connection closed without a word of the reply.
    pub fn cut_once_sent(&self, part: &str) {
        *self.armed.lock().unwrap() = Some(part.to_owned());
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        // Wake the listening thread so that it sees it is done.
        self.closed.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.socket);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Passes the messages of `client` on to `server` in a thread, each whole,
/// until either ends or a query holds the armed text; then ends both.
fn forward(mut client: UnixStream, mut server: UnixStream, armed: Armed) {
    std::thread::spawn(move || {
        let _ = relay(&mut client, &mut server, &armed);
        let _ = server.shutdown(Shutdown::Both);
        let _ = client.shutdown(Shutdown::Both);
    });
}

/// The startup phase's requests that the server answers with one byte,
/// after which the client starts again: SSL and GSS encryption.
const ENCRYPTION_REQUESTS: [u32; 2] = [80_877_103, 80_877_104];

/// Reads one message's length (which counts itself) and body.
fn read_body(from: &mut UnixStream, length: [u8; 4]) -> io::Result<Vec<u8>> {
    let length = usize::try_from(u32::from_be_bytes(length)).unwrap();
    let mut body = vec![0; length.saturating_sub(4)];
    from.read_exact(&mut body)?;
    Ok(body)
}

/// [`forward`]'s work: the untyped messages of the startup phase, then
/// typed ones (a byte, a length, a body), as the protocol frames them.
fn relay(client: &mut UnixStream, server: &mut UnixStream, armed: &Armed) -> io::Result<()> {
    loop {
        let mut length = [0; 4];
        client.read_exact(&mut length)?;
        let body = read_body(client, length)?;
        server.write_all(&length)?;
        server.write_all(&body)?;
        let code = body
            .get(..4)
            .map(|c| u32::from_be_bytes(c.try_into().unwrap()));
        if !code.is_some_and(|c| ENCRYPTION_REQUESTS.contains(&c)) {
            break;
        }
    }
    loop {
        let mut head = [0; 5];
        client.read_exact(&mut head)?;
        let body = read_body(client, head[1..].try_into().unwrap())?;
        let last = head[0] == b'Q' && {
            let mut armed = armed.lock().unwrap();
            let holds = armed
                .as_deref()
                .is_some_and(|part| body.windows(part.len()).any(|w| w == part.as_bytes()));
            if holds {
                *armed = None;
            }
            holds
        };
        if last {
            // Before the server has the query, so that no reply can pass.
            client.shutdown(Shutdown::Both)?;
        }
        server.write_all(&head)?;
        server.write_all(&body)?;
        if last {
            return Ok(());
        }
    }
}

/// Copies `from` to `to` in a thread until either ends, then ends both.
fn pipe(mut from: UnixStream, mut to: UnixStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
