//! What every page shares: the locale helper templates call, and the shell around the content
//! (navigation, language switch, user menu, demo banner, today's date).

use hamdeli_domain::{Action, Role};
use hamdeli_locale::Locale;

use crate::context::Ctx;

/// The locale as templates use it: `{{ l.t("id") }}`, `{{ l.num(n) }}`.
#[derive(Clone, Copy, Debug)]
pub struct Loc(pub Locale);

impl Loc {
    pub fn t(&self, id: &str) -> String {
        hamdeli_locale::t(self.0, id)
    }
    pub fn t1<V: std::fmt::Display + ?Sized>(&self, id: &str, name: &str, value: &V) -> String {
        hamdeli_locale::t_args(self.0, id, &[(name, value.to_string())])
    }
    pub fn num(&self, n: &i64) -> String {
        hamdeli_locale::format_int(self.0, *n)
    }
    pub fn digits(&self, s: &str) -> String {
        hamdeli_locale::localize_digits(self.0, s)
    }
    pub fn instant(&self, millis: &i64) -> String {
        hamdeli_locale::format_instant(self.0, *millis)
    }
    pub fn opt_instant(&self, millis: &Option<i64>) -> String {
        millis
            .map(|m| self.instant(&m))
            .unwrap_or_else(|| "—".into())
    }
    /// A text value or "—" when absent; digits in the locale's script.
    pub fn opt(&self, v: &Option<String>) -> String {
        match v.as_deref() {
            Some(s) if !s.is_empty() => self.digits(s),
            _ => "—".into(),
        }
    }
    /// An enumerated value that may be absent (gender, zone, reason): "—" when absent.
    pub fn opt_tv(&self, prefix: &str, v: &Option<String>) -> String {
        match v.as_deref() {
            Some(s) if !s.is_empty() => self.tv(prefix, s),
            _ => "—".into(),
        }
    }
    pub fn role(&self, role: &Role) -> String {
        self.t(&format!("role-{}", role.as_str().replace('_', "-")))
    }
    pub fn org_kind(&self, kind: &str) -> String {
        self.t(&format!("org-kind-{}", kind.replace('_', "-")))
    }
    /// A transparency-log entry kind in words; an unknown kind shows itself.
    pub fn ledger_kind(&self, kind: &str) -> String {
        let id = format!("ledger-kind-{}", kind.replace(['_', '.'], "-"));
        if hamdeli_locale::has_message(self.0, &id) {
            self.t(&id)
        } else {
            kind.to_owned()
        }
    }
    /// A per-row problem code (`national_code.padded`) in words; an unknown code shows itself.
    pub fn problem(&self, code: &str) -> String {
        let id = format!("problem-{}", code.replace(['_', '.'], "-"));
        if hamdeli_locale::has_message(self.0, &id) {
            self.t(&id)
        } else {
            code.to_owned()
        }
    }
    /// The message `{prefix}-{value}`, for enumerated values (statuses, kinds).
    pub fn tv(&self, prefix: &str, value: &str) -> String {
        self.t(&format!("{prefix}-{}", value.replace('_', "-")))
    }
    /// A stored ISO date as the locale shows dates; "—" if it does not parse.
    pub fn date(&self, iso: &str) -> String {
        self.iso_date(&Some(iso.to_owned()))
    }
    /// An ISO date (`1981-08-03`) as the locale shows dates (Jalali in Persian); "—" if absent.
    pub fn iso_date(&self, iso: &Option<String>) -> String {
        match iso.as_deref().and_then(hamdeli_locale::parse_form_date) {
            Some(d) => hamdeli_locale::format_date_short(self.0, d),
            None => "—".into(),
        }
    }
    /// A published count: the number, or "<5" for a suppressed small cell.
    pub fn count(&self, c: &hamdeli_domain::needs::PublicCount) -> String {
        match c {
            hamdeli_domain::needs::PublicCount::Exact(n) => self.num(n),
            hamdeli_domain::needs::PublicCount::Suppressed => self.t1(
                "count-suppressed",
                "n",
                &self.num(&hamdeli_domain::needs::SMALL_CELL),
            ),
        }
    }
    pub fn lang(&self) -> &'static str {
        self.0.tag()
    }
    pub fn dir(&self) -> &'static str {
        self.0.dir()
    }
    /// A place or organisation name in the page's language.
    pub fn name<'a>(&self, fa: &'a str, en: &'a str) -> &'a str {
        if self.0 == Locale::Fa || en.is_empty() {
            fa
        } else {
            en
        }
    }
}

pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

/// A capability's menu: one link alone, or a group that opens (details/summary, no script).
pub struct NavGroup {
    pub label: String,
    pub items: Vec<NavItem>,
    pub current: bool,
}

pub struct Shell {
    pub l: Loc,
    pub title: String,
    pub user_name: Option<String>,
    pub user_role: Option<String>,
    pub csrf: String,
    pub demo: bool,
    pub today: String,
    pub nav: Vec<NavGroup>,
    pub path: String,
    pub other_lang: &'static str,
    pub other_lang_name: String,
}

impl Shell {
    pub fn new(ctx: &Ctx, title: String) -> Shell {
        let l = Loc(ctx.locale);
        let today = hamdeli_locale::format_date(
            ctx.locale,
            hamdeli_locale::clock::iran_today(hamdeli_store::now_millis()),
        );
        // The menu is grouped by capability so that it fits a 1280 px screen for every role.
        let link = |href: &'static str, id: &str| NavItem {
            href,
            label: l.t(id),
            current: if href == "/" {
                ctx.path == "/"
            } else {
                ctx.path == href
                    || ctx.path.starts_with(&format!("{href}/"))
                    || (ctx.path.starts_with(href) && ctx.path[href.len()..].starts_with('?'))
            },
        };
        let mut nav: Vec<NavGroup> = vec![];
        let mut group = |id: &str, items: Vec<NavItem>| {
            if items.is_empty() {
                return;
            }
            nav.push(NavGroup {
                label: l.t(id),
                current: items.iter().any(|i| i.current),
                items,
            });
        };
        group("nav-home", vec![link("/", "nav-home")]);
        if let Some(p) = &ctx.principal {
            let mut registry = vec![];
            if p.allows(&Action::SearchRegistry) {
                registry.push(link("/registry", "nav-registry"));
            }
            if p.role.is_staff() {
                // Partners import their lists; offices the surveys of their counties.
                registry.push(link("/registry/imports", "nav-imports"));
            }
            if p.allows(&Action::ViewDashboard) {
                registry.push(link("/organisations", "nav-organisations"));
                registry.push(link("/places", "nav-places"));
            }
            group("nav-group-registry", registry);
            let mut aid = vec![];
            if p.allows(&Action::ManageNeeds) {
                aid.push(link("/needs", "nav-needs"));
                aid.push(link("/deliveries", "nav-deliveries"));
            }
            aid.push(link("/campaigns", "nav-campaigns"));
            if p.allows(&Action::Pledge) {
                aid.push(link("/donor", "nav-donor"));
            }
            group("nav-group-aid", aid);
            // Capabilities D–G: each pages folder names its own menu items for this principal.
            for (group_id, items) in [
                ("nav-group-market", crate::pages::market::nav_items(p)),
                ("nav-group-loans", crate::pages::loans::nav_items(p)),
                ("nav-group-network", crate::pages::network::nav_items(p)),
                ("nav-group-reports", crate::pages::reports::nav_items(p)),
            ] {
                group(
                    group_id,
                    items.into_iter().map(|(href, id)| link(href, id)).collect(),
                );
            }
            let mut admin = vec![];
            if p.allows(&Action::ManageUsers) {
                admin.push(link("/admin/users", "nav-users"));
            }
            if p.allows(&Action::ReadAudit) {
                admin.push(link("/admin/audit", "nav-audit"));
            }
            if p.role == Role::NationalAdmin || p.role == Role::PartnerOrg {
                admin.push(link("/admin/api-keys", "nav-api-keys"));
            }
            group("nav-group-admin", admin);
        } else {
            group("nav-campaigns", vec![link("/campaigns", "nav-campaigns")]);
            group(
                "nav-group-market",
                vec![link("/market", "market-nav-catalogue")],
            );
        }
        group(
            "nav-group-public",
            vec![
                link("/stats", "nav-stats"),
                link("/transparency", "nav-transparency"),
                link("/api/docs", "nav-api-docs"),
            ],
        );
        Shell {
            l,
            title,
            user_name: ctx.user.as_ref().map(|u| u.display_name.clone()),
            user_role: ctx.principal.as_ref().map(|p| l.role(&p.role)),
            csrf: ctx.csrf_token.clone(),
            demo: ctx.demo,
            today,
            nav,
            path: ctx.path.clone(),
            other_lang: ctx.locale.other().tag(),
            other_lang_name: l.t("lang-other"),
        }
    }
}
