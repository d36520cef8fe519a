//! Capability network: its pages (each handler's doc line names its route). The databank of
//! capable women (offices' search and export, her own self-service, the public directory),
//! volunteer specialists (sign-up, the provincial check, her home), social emergency centres
//! and their cases (proposals with reasons, assignment, sessions, close), NGOs' licences,
//! lifecycle and training, and the reports.

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};

use hamdeli_domain::network::policy::NetworkAction;
use hamdeli_domain::{Action, Principal, Role};
use hamdeli_store::geo::{County, Province};

use crate::AppState;
use crate::error::AppError;
use crate::pages::see_other;
use crate::view::Loc;

pub(crate) mod api;
mod cases;
mod ngos;
mod reports;
mod volunteers;
mod women;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/network", get(reports::home))
        .route("/network/reports", get(reports::report_page))
        .route("/network/women", get(women::search))
        .route(
            "/network/women/new",
            get(women::new_form).post(women::create),
        )
        .route("/network/women/{id}", get(women::show))
        .route(
            "/network/women/{id}/edit",
            get(women::edit_form).post(women::edit),
        )
        .route("/network/women/{id}/consent", post(women::set_consent))
        .route("/network/directory", get(women::directory))
        .route("/network/me", get(women::me).post(women::me_save))
        .route("/network/me/code", post(women::me_code))
        .route(
            "/network/me/verify",
            get(women::me_verify_form).post(women::me_verify),
        )
        .route("/network/me/consent", post(women::me_consent))
        .route("/network/me/logout", post(women::me_logout))
        .route("/network/volunteers", get(volunteers::list))
        .route(
            "/network/volunteers/new",
            get(volunteers::new_form).post(volunteers::enter),
        )
        .route("/network/notices/{id}/read", post(reports::notice_read))
        .route("/network/volunteers/{id}", get(volunteers::show))
        .route("/network/volunteers/{id}/check", post(volunteers::check))
        .route(
            "/network/volunteer",
            get(volunteers::home).post(volunteers::save),
        )
        .route(
            "/network/volunteers/signup",
            get(volunteers::signup_form).post(volunteers::signup),
        )
        .route(
            "/network/volunteers/signup/verify",
            get(volunteers::verify_form).post(volunteers::verify),
        )
        .route(
            "/network/centres",
            get(cases::centres).post(cases::create_centre),
        )
        .route("/network/centres/{id}", get(cases::centre))
        .route("/network/centres/{id}/cases", post(cases::open_case))
        .route("/network/cases/{id}", get(cases::case))
        .route("/network/cases/{id}/assign", post(cases::assign))
        .route("/network/cases/{id}/respond", post(cases::respond))
        .route("/network/cases/{id}/sessions", post(cases::log_session))
        .route("/network/cases/{id}/close", post(cases::close))
        .route("/network/ngos", get(ngos::list))
        .route("/network/ngos/{id}", get(ngos::show))
        .route("/network/ngos/{id}/licence", post(ngos::put_licence))
        .route("/network/ngos/{id}/step", post(ngos::step))
        .route("/network/ngos/{id}/trainings", post(ngos::add_training))
}

/// The menu items of this capability for a signed-in principal: (href, message id). An empty
/// list hides the group.
pub(crate) fn nav_items(principal: &Principal) -> Vec<(&'static str, &'static str)> {
    let p = principal;
    if p.allows(&Action::Network(NetworkAction::ViewHome)) {
        return vec![
            ("/network", "network-nav-home"),
            ("/network/women", "network-nav-women"),
            ("/network/volunteers", "network-nav-volunteers"),
            ("/network/centres", "network-nav-centres"),
            ("/network/ngos", "network-nav-ngos"),
            ("/network/reports", "network-nav-reports"),
            ("/network/directory", "network-nav-directory"),
        ];
    }
    if p.role == Role::Volunteer {
        return vec![
            ("/network/volunteer", "network-nav-volunteer"),
            ("/network/directory", "network-nav-directory"),
        ];
    }
    vec![("/network/directory", "network-nav-directory")]
}

/// Form fields as pairs (several values of one name kept: languages, counties, days).
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }
}

/// Province and county names for a page.
pub(crate) struct Places {
    pub provinces: Vec<Province>,
    pub counties: Vec<County>,
}

impl Places {
    pub async fn load(state: &AppState) -> Result<Places, AppError> {
        Ok(Places {
            provinces: hamdeli_store::geo::all_provinces(&state.store).await?,
            counties: hamdeli_store::geo::all_counties(&state.store).await?,
        })
    }
    pub fn province(&self, l: Loc, code: &str) -> String {
        self.provinces
            .iter()
            .find(|p| p.code == code)
            .map(|p| l.name(&p.name_fa, &p.name_en).to_owned())
            .unwrap_or_else(|| code.to_owned())
    }
    pub fn county(&self, l: Loc, code: &str) -> String {
        self.counties
            .iter()
            .find(|c| c.code == code)
            .map(|c| l.name(&c.name_fa, &c.name_en).to_owned())
            .unwrap_or_else(|| code.to_owned())
    }
    /// Counties a principal may choose (its province's or county's; all for the country).
    pub fn counties_for(&self, p: Option<&Principal>) -> Vec<County> {
        let province = p.and_then(|p| p.scope.province());
        let county = p.and_then(|p| p.scope.county());
        self.counties
            .iter()
            .filter(|c| province.is_none_or(|pr| c.province_code == pr))
            .filter(|c| county.is_none_or(|co| c.code == co))
            .cloned()
            .collect()
    }
}

/// A choice for a select: (value, label).
pub(crate) type Choice = (String, String);

pub(crate) fn county_choices(l: Loc, places: &Places, p: Option<&Principal>) -> Vec<Choice> {
    places
        .counties_for(p)
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                format!(
                    "{} — {}",
                    l.name(&c.name_fa, &c.name_en),
                    places.province(l, &c.province_code)
                ),
            )
        })
        .collect()
}

pub(crate) fn province_choices(l: Loc, places: &Places) -> Vec<Choice> {
    places
        .provinces
        .iter()
        .map(|p| (p.code.clone(), l.name(&p.name_fa, &p.name_en).to_owned()))
        .collect()
}

pub(crate) fn vocab_choices(l: Loc, prefix: &str, codes: &[&str]) -> Vec<Choice> {
    codes
        .iter()
        .map(|c| ((*c).to_owned(), l.tv(prefix, c)))
        .collect()
}

/// After a POST: back to `to`, or to `to` with the refusal's message id for the page to show.
pub(crate) fn done(result: hamdeli_app::Result<()>, to: &str) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(see_other(to)),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let sep = if to.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{to}{sep}error={id}")))
        }
        Err(e) => Err(e.into()),
    }
}

/// The message of an `?error=` id, when it is one of the catalog's (anything else is ignored).
pub(crate) fn error_message(l: Loc, id: Option<&str>) -> Option<String> {
    let id = id?;
    let known = id.len() <= 60
        && id.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && hamdeli_locale::has_message(l.0, id);
    known.then(|| l.t(id))
}
