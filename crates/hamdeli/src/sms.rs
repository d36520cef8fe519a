//! The text-message senders the configuration chooses: an SMS provider's HTTP gateway
//! (`sms_gateway_url`), else the log ([`hamdeli_app::sms::LogSender`]).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use hamdeli_app::sms::{LogSender, SendFuture, SmsError, SmsSender, mask_mobile};

/// Calls an SMS provider's URL for each message: `{mobile}` and `{text}` in the template are
/// replaced by the number and the text, percent-encoded (UTF-8). A GET; any 2xx answer is
/// success. This build has no TLS: the URL is `http://` (a gateway on the host or the local
/// network, or a local TLS-terminating proxy).
#[derive(Debug, Clone)]
pub struct HttpSender {
    template: String,
    client: reqwest::Client,
}

impl HttpSender {
    pub fn new(template: &str) -> Result<HttpSender> {
        check_template(template)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(HttpSender {
            template: template.to_owned(),
            client,
        })
    }

    /// The URL a message is sent to.
    pub fn url_for(&self, mobile: &str, text: &str) -> String {
        self.template
            .replace("{mobile}", &percent_encode(mobile))
            .replace("{text}", &percent_encode(text))
    }
}

/// Refuses a template that is not `http://…` with both placeholders.
pub fn check_template(template: &str) -> Result<()> {
    if !template.starts_with("http://") {
        bail!(
            "sms_gateway_url must start with http:// (this build has no TLS; put a local TLS proxy in front of an https gateway), not {template:?}"
        );
    }
    if !template.contains("{mobile}") || !template.contains("{text}") {
        bail!("sms_gateway_url must contain {{mobile}} and {{text}}");
    }
    Ok(())
}

/// Every byte but the unreserved characters of RFC 3986 as `%XX`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl SmsSender for HttpSender {
    fn send<'a>(&'a self, mobile: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let url = self.url_for(mobile, text);
            // The URL carries the code: never logged.
            let answer = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| SmsError(format!("gateway unreachable: {}", e.without_url())))?;
            let status = answer.status();
            if !status.is_success() {
                return Err(SmsError(format!("gateway answered {status}")));
            }
            tracing::info!(to = %mask_mobile(mobile), "a text message was sent through the SMS gateway");
            Ok(())
        })
    }
}

/// The sender the settings ask for: the gateway when `sms_gateway_url` is set, else the log,
/// writing codes into it when `log_codes` says so.
pub fn sender(gateway_url: Option<&str>, log_codes: bool) -> Result<Arc<dyn SmsSender>> {
    Ok(match gateway_url {
        Some(url) => Arc::new(HttpSender::new(url)?),
        None => Arc::new(LogSender::new(log_codes)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_percent_encoded() {
        let s = HttpSender::new("http://gw.example/send?to={mobile}&text={text}").unwrap();
        assert_eq!(
            s.url_for("09123456789", "کد: 12 & x=y"),
            "http://gw.example/send?to=09123456789&text=%DA%A9%D8%AF%3A%2012%20%26%20x%3Dy"
        );
    }

    #[test]
    fn templates_without_placeholders_or_with_https_are_refused() {
        assert!(check_template("http://gw/send?to={mobile}").is_err());
        assert!(check_template("https://gw/send?to={mobile}&t={text}").is_err());
        assert!(check_template("http://gw/send?to={mobile}&t={text}").is_ok());
    }
}
