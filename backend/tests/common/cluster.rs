//! A throwaway PostgreSQL server in a temporary directory, started from the system's
//! binaries (`/usr/lib/postgresql/<version>/bin`; as root, through `runuser -u postgres`,
//! since `initdb` refuses root) and stopped on drop. The PostgreSQL tests and the HTTP
//! simulation (`examples/simulate.rs`, which includes this file) both use it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL server this process started; stopped, and its directory removed, on drop.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

impl Cluster {
    fn command(bin: &Path, tool: &str, as_postgres: bool) -> Command {
        if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
            c
        } else {
            Command::new(bin.join(tool))
        }
    }

    /// Starts a server; `fsync` off is for tests only (a benchmark keeps commits durable).
    pub fn start(fsync: bool) -> Result<Cluster, String> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "no /usr/lib/postgresql".to_owned())?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .collect();
        versions.sort();
        let bin = versions
            .pop()
            .ok_or("no initdb under /usr/lib/postgresql/*/bin")?;
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?;
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = std::env::temp_dir().join(format!(
            "doorkey-backend-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("temp dir: {e}"))?;
        let mut cluster = Cluster {
            bin,
            dir,
            as_postgres,
            port: 0,
        };
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&cluster.dir)
                .status();
            if !chown.is_ok_and(|s| s.success()) {
                return Err(
                    "running as root and cannot hand the directory to user postgres".into(),
                );
            }
        }
        let init = Self::command(&cluster.bin, "initdb", as_postgres)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(cluster.data())
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !init.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ));
        }
        cluster.port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync={} -c max_connections=200",
            cluster.port,
            cluster.dir.display(),
            if fsync { "on" } else { "off" },
        );
        let started = Self::command(&cluster.bin, "pg_ctl", as_postgres)
            .arg("-D")
            .arg(cluster.data())
            .args(["-o", &options, "-l"])
            .arg(cluster.dir.join("log"))
            .args(["-w", "start"])
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !started.status.success() {
            let log = std::fs::read_to_string(cluster.dir.join("log")).unwrap_or_default();
            return Err(format!("pg_ctl start failed: {log}"));
        }
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Self::command(&self.bin, "pg_ctl", self.as_postgres)
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
