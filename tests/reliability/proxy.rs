//! A proxy between a client and a server listening on a Unix socket, whose
//! connections can be cut as a network fault cuts them: the client sees its
//! connection closed while the server's session goes on with what it had
//! received.

use postgres::Config;
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
}

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
        let accepted = Arc::clone(&clients);
        let done = Arc::clone(&closed);
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
                pipe(client.try_clone().unwrap(), upstream.try_clone().unwrap());
                pipe(upstream, client);
            }
        });
        Some(Proxy {
            dir: own,
            socket: own_socket,
            clients,
            closed,
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

/// Copies `from` to `to` in a thread until either ends, then ends both.
fn pipe(mut from: UnixStream, mut to: UnixStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
