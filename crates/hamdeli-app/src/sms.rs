//! Text messages to mobiles (a donor's sign-up code). The sender is pluggable: [`LogSender`]
//! writes to the log (the default), and the binary's HTTP gateway sender calls an SMS
//! provider's URL (`hamdeli::sms::HttpSender`).
//!
//! A message may carry a one-time code, so the log never shows its text unless the setting
//! `sms_log_codes` asks for it (on by default only for the demo data set); otherwise it says
//! only that a message went to a masked number.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
#[error("the text message was not sent: {0}")]
pub struct SmsError(pub String);

/// What [`SmsSender::send`] returns: a boxed future, so senders can be chosen at run time
/// (`Arc<dyn SmsSender>`).
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

/// Sends one text message to one mobile number (`09…`).
pub trait SmsSender: Send + Sync {
    fn send<'a>(&'a self, mobile: &'a str, text: &'a str) -> SendFuture<'a>;
}

/// A mobile number for logs: `0912***6789`.
pub fn mask_mobile(mobile: &str) -> String {
    let chars: Vec<char> = mobile.chars().collect();
    if chars.len() < 8 {
        return "***".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}***{tail}")
}

/// How many messages the in-memory record keeps.
const RECORD_LEN: usize = 256;

/// The last messages log senders with `log_codes` sent, newest last: what a demo (and a test)
/// reads the code from. Only senders that log the text record it, so the record holds nothing
/// the log does not.
static RECORD: Mutex<VecDeque<(String, String)>> = Mutex::new(VecDeque::new());

/// Writes each message to the log instead of sending it.
#[derive(Debug, Clone, Copy)]
pub struct LogSender {
    /// Log the text itself (the code in it): the demo's and the tests' setting, never a
    /// production one.
    pub log_codes: bool,
}

impl LogSender {
    pub fn new(log_codes: bool) -> LogSender {
        LogSender { log_codes }
    }

    /// The text of the newest message a code-logging sender sent to `mobile` in this process.
    pub fn last_text_to(mobile: &str) -> Option<String> {
        let record = RECORD.lock().unwrap_or_else(|e| e.into_inner());
        record
            .iter()
            .rev()
            .find(|(to, _)| to == mobile)
            .map(|(_, text)| text.clone())
    }
}

impl SmsSender for LogSender {
    fn send<'a>(&'a self, mobile: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let to = mask_mobile(mobile);
            if self.log_codes {
                tracing::info!(to = %to, text = %text, "text message (sms_log_codes: not sent)");
                let mut record = RECORD.lock().unwrap_or_else(|e| e.into_inner());
                if record.len() >= RECORD_LEN {
                    record.pop_front();
                }
                record.push_back((mobile.to_owned(), text.to_owned()));
            } else {
                tracing::info!(to = %to, "a text message was written to the log, its text withheld (no SMS gateway set)");
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_the_ends() {
        assert_eq!(mask_mobile("09123456789"), "0912***6789");
        assert_eq!(mask_mobile("0912"), "***");
    }

    #[tokio::test]
    async fn only_a_code_logging_sender_keeps_the_text() {
        LogSender::new(false)
            .send("09350000001", "code 1")
            .await
            .unwrap();
        assert_eq!(LogSender::last_text_to("09350000001"), None);
        LogSender::new(true)
            .send("09350000001", "code 2")
            .await
            .unwrap();
        assert_eq!(
            LogSender::last_text_to("09350000001").as_deref(),
            Some("code 2")
        );
    }
}
