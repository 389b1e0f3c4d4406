//! Starts a real S3-compatible server (moto) on a free loopback port for the test run.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server, stopped when dropped.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl S3Server {
    /// Starts `moto_server` (or `$SLIPSTREAM_MOTO_SERVER`). Returns `None` only when the
    /// binary is absent and `SLIPSTREAM_REQUIRE_S3` is unset; `make test` sets it, so there
    /// a missing server fails the suite instead of skipping it.
    pub fn start() -> Option<Self> {
        let binary =
            std::env::var("SLIPSTREAM_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spawned = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var_os("SLIPSTREAM_REQUIRE_S3").is_some() => {
                panic!("cannot start {binary}: {e} (run the suite through `make test`)")
            }
            Err(e) => {
                eprintln!(
                    "S3 conformance not run: cannot start {binary}: {e}; `make test` installs it"
                );
                return None;
            }
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{binary} did not listen on {addr} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Self {
            child,
            endpoint: format!("http://{addr}"),
        })
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
