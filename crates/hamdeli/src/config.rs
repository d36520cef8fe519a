//! Configuration: works with no settings at all, then a TOML file, then `HAMDELI_…` environment
//! variables, then command-line flags — each layer over the one before.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub default_locale: Option<String>,
    pub secret_key: Option<String>,
    pub log_format: Option<String>,
    pub secure_cookies: Option<bool>,
    /// Proxies whose `X-Forwarded-For` is believed: `"10.0.0.1, 10.0.0.2"` or a TOML list.
    pub trusted_proxies: Option<AddressList>,
    /// An SMS provider's URL template with `{mobile}` and `{text}` (plain http).
    pub sms_gateway_url: Option<String>,
    /// Write sign-up codes into the log (when no gateway is set).
    pub sms_log_codes: Option<bool>,
}

/// A list of IP addresses, written as one comma-separated string or as a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AddressList {
    Text(String),
    List(Vec<String>),
}

impl AddressList {
    fn parse(&self) -> Result<Vec<std::net::IpAddr>> {
        let items: Vec<&str> = match self {
            AddressList::Text(t) => t.split(',').collect(),
            AddressList::List(l) => l.iter().map(String::as_str).collect(),
        };
        items
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse()
                    .with_context(|| format!("trusted_proxies: {s:?} is not an IP address"))
            })
            .collect()
    }
}

impl Layer {
    fn over(self, base: Layer) -> Layer {
        Layer {
            bind: self.bind.or(base.bind),
            database_url: self.database_url.or(base.database_url),
            data_dir: self.data_dir.or(base.data_dir),
            default_locale: self.default_locale.or(base.default_locale),
            secret_key: self.secret_key.or(base.secret_key),
            log_format: self.log_format.or(base.log_format),
            secure_cookies: self.secure_cookies.or(base.secure_cookies),
            trusted_proxies: self.trusted_proxies.or(base.trusted_proxies),
            sms_gateway_url: self.sms_gateway_url.or(base.sms_gateway_url),
            sms_log_codes: self.sms_log_codes.or(base.sms_log_codes),
        }
    }

    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Layer> {
        let secure_cookies =
            get("HAMDELI_SECURE_COOKIES").map(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
        let sms_log_codes =
            get("HAMDELI_SMS_LOG_CODES").map(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
        Ok(Layer {
            bind: get("HAMDELI_BIND"),
            database_url: get("HAMDELI_DATABASE_URL"),
            data_dir: get("HAMDELI_DATA_DIR").map(PathBuf::from),
            default_locale: get("HAMDELI_DEFAULT_LOCALE"),
            secret_key: get("HAMDELI_SECRET_KEY"),
            log_format: get("HAMDELI_LOG_FORMAT"),
            secure_cookies,
            trusted_proxies: get("HAMDELI_TRUSTED_PROXIES").map(AddressList::Text),
            sms_gateway_url: get("HAMDELI_SMS_GATEWAY_URL").filter(|s| !s.trim().is_empty()),
            sms_log_codes,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub default_locale: hamdeli_locale::Locale,
    pub secret_key: Option<String>,
    pub log_format: LogFormat,
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` names the client; none by default.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// An SMS provider's URL template (`http://gw/send?to={mobile}&text={text}`); none: text
    /// messages go to the log.
    pub sms_gateway_url: Option<String>,
    /// Write sign-up codes into the log; unset: only for the demo data set.
    pub sms_log_codes: Option<bool>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "hamdeli-data";

impl Config {
    /// Resolves the layers. `file` is the `--config` path, else `HAMDELI_CONFIG`, else
    /// `hamdeli.toml` in the data directory when it exists.
    pub fn load(file: Option<&Path>, env: Layer, flags: Layer) -> Result<Config> {
        let early = flags.clone().over(env.clone());
        let file_path = file.map(Path::to_path_buf).or_else(|| {
            let dir = early
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
            Some(dir.join("hamdeli.toml")).filter(|p| p.exists())
        });
        let from_file = match &file_path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading configuration file {}", p.display()))?;
                toml::from_str::<Layer>(&text)
                    .with_context(|| format!("parsing configuration file {}", p.display()))?
            }
            None => Layer::default(),
        };
        let merged = flags.over(env.over(from_file));
        let data_dir = merged
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = merged
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("hamdeli.db").display()));
        let default_locale = match merged.default_locale.as_deref() {
            None => hamdeli_locale::Locale::Fa,
            Some(tag) => hamdeli_locale::Locale::parse(tag)
                .with_context(|| format!("default_locale must be fa or en, not {tag:?}"))?,
        };
        let log_format = match merged.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => anyhow::bail!("log_format must be text or json, not {other:?}"),
        };
        Ok(Config {
            bind: merged.bind.unwrap_or_else(|| DEFAULT_BIND.to_owned()),
            database_url,
            data_dir,
            default_locale,
            secret_key: merged.secret_key,
            log_format,
            secure_cookies: merged.secure_cookies.unwrap_or(false),
            trusted_proxies: match &merged.trusted_proxies {
                Some(list) => list.parse()?,
                None => vec![],
            },
            sms_gateway_url: match merged.sms_gateway_url {
                Some(url) => {
                    crate::sms::check_template(url.trim())?;
                    Some(url.trim().to_owned())
                }
                None => None,
            },
            sms_log_codes: merged.sms_log_codes,
        })
    }

    /// The configured secret, or the one kept in the data directory (made on first run).
    pub fn secret_key_bytes(&self) -> Result<Vec<u8>> {
        if let Some(k) = &self.secret_key {
            anyhow::ensure!(k.len() >= 32, "secret_key must be at least 32 characters");
            return Ok(k.as_bytes().to_vec());
        }
        let path = self.data_dir.join("secret.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = existing.trim();
            if existing.len() >= 32 {
                return Ok(existing.as_bytes().to_vec());
            }
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data directory {}", self.data_dir.display()))?;
        let key = hamdeli_store::tokens::random_token();
        write_private(&path, &key)?;
        Ok(key.into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// Makes files the process creates private to its user (umask 0o077): the data directory, the
/// SQLite database with its -wal and -shm files, backups, the secret key. Called first thing.
#[cfg(unix)]
pub fn private_umask() {
    #[cfg(target_os = "linux")]
    type Mode = u32;
    #[cfg(not(target_os = "linux"))]
    type Mode = u16;
    unsafe extern "C" {
        fn umask(mask: Mode) -> Mode;
    }
    // SAFETY: umask only swaps the process's creation mask and cannot fail.
    unsafe {
        umask(0o077);
    }
}

#[cfg(not(unix))]
pub fn private_umask() {}

impl Config {
    /// The SQLite database file, when the database is SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.database_url.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or_default();
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// Tightens what an earlier start (or another umask) left readable to others: the data
    /// directory to 0700, the SQLite database, its -wal and -shm files and the secret key to 0600.
    #[cfg(unix)]
    pub fn protect_files(&self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let chmod = |path: &Path, mode: u32| -> Result<()> {
            match std::fs::metadata(path) {
                Ok(m) if m.permissions().mode() & 0o777 != mode => {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                        .with_context(|| format!("making {} private", path.display()))
                }
                _ => Ok(()),
            }
        };
        chmod(&self.data_dir, 0o700)?;
        chmod(&self.data_dir.join("secret.key"), 0o600)?;
        if let Some(db) = self.sqlite_path() {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = db.clone().into_os_string();
                name.push(suffix);
                chmod(Path::new(&name), 0o600)?;
            }
        }
        Ok(())
    }

    #[cfg(not(unix))]
    pub fn protect_files(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_settings_work() {
        let c = Config::load(None, Layer::default(), Layer::default()).unwrap();
        assert_eq!(c.bind, DEFAULT_BIND);
        assert!(c.database_url.starts_with("sqlite://"));
        assert_eq!(c.default_locale, hamdeli_locale::Locale::Fa);
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn layers_override_in_order() {
        let dir = std::env::temp_dir().join(format!("hamdeli-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("h.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:1\"\nlog_format = \"json\"\ndefault_locale = \"en\"\n",
        )
        .unwrap();
        let env =
            Layer::from_env(|k| (k == "HAMDELI_BIND").then(|| "0.0.0.0:2".to_owned())).unwrap();
        let c = Config::load(Some(&file), env.clone(), Layer::default()).unwrap();
        assert_eq!(c.bind, "0.0.0.0:2");
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.default_locale, hamdeli_locale::Locale::En);
        let flags = Layer {
            bind: Some("0.0.0.0:3".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::load(Some(&file), env, flags).unwrap().bind,
            "0.0.0.0:3"
        );
        std::fs::write(&file, "colour = \"red\"\n").unwrap();
        assert!(Config::load(Some(&file), Layer::default(), Layer::default()).is_err());
    }

    #[test]
    fn trusted_proxies_come_from_env_or_file_and_default_to_none() {
        let c = Config::load(None, Layer::default(), Layer::default()).unwrap();
        assert!(c.trusted_proxies.is_empty());
        let env = Layer::from_env(|k| {
            (k == "HAMDELI_TRUSTED_PROXIES").then(|| "10.0.0.1, ::1,".to_owned())
        })
        .unwrap();
        let c = Config::load(None, env, Layer::default()).unwrap();
        assert_eq!(
            c.trusted_proxies,
            [
                "10.0.0.1".parse::<std::net::IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        let bad = Layer::from_env(|k| {
            (k == "HAMDELI_TRUSTED_PROXIES").then(|| "10.0.0.1, proxy.example".to_owned())
        })
        .unwrap();
        assert!(Config::load(None, bad, Layer::default()).is_err());

        let dir = std::env::temp_dir().join(format!("hamdeli-proxies-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("h.toml");
        std::fs::write(&file, "trusted_proxies = [\"192.168.1.1\"]\n").unwrap();
        let c = Config::load(Some(&file), Layer::default(), Layer::default()).unwrap();
        assert_eq!(
            c.trusted_proxies,
            ["192.168.1.1".parse::<std::net::IpAddr>().unwrap()]
        );
        std::fs::write(&file, "trusted_proxies = \"192.168.1.1,192.168.1.2\"\n").unwrap();
        let c = Config::load(Some(&file), Layer::default(), Layer::default()).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn secret_is_generated_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("hamdeli-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let flags = Layer {
            data_dir: Some(dir.clone()),
            ..Default::default()
        };
        let c = Config::load(None, Layer::default(), flags).unwrap();
        let first = c.secret_key_bytes().unwrap();
        assert_eq!(first, c.secret_key_bytes().unwrap());
        assert!(first.len() >= 32);
    }
}
