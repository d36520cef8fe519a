use askama::Template;
use axum::extract::State;
use axum::response::Response;

use hamdeli_domain::{Action, Scope};
use hamdeli_store::dashboard::Counts;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing {
    shell: Shell,
    l: Loc,
    provinces: i64,
    counties: i64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    shell: Shell,
    l: Loc,
    counts: Counts,
    scope: String,
    reports: Option<crate::pages::reports::HomeFigures>,
}

#[derive(Template)]
#[template(path = "member_home.html")]
struct MemberHome {
    shell: Shell,
    l: Loc,
}

/// A description of the scope in words: "کشور", "استان تهران", …
pub async fn scope_words(state: &AppState, l: Loc, scope: &Scope) -> Result<String, AppError> {
    Ok(match scope {
        Scope::Country => l.t("scope-country"),
        Scope::Province { province } => {
            let p = hamdeli_store::geo::province(&state.store, province).await?;
            let name = p
                .map(|p| l.name(&p.name_fa, &p.name_en).to_owned())
                .unwrap_or_default();
            l.t1("scope-province", "name", &name)
        }
        Scope::County { county, .. } => {
            let c = hamdeli_store::geo::county(&state.store, county).await?;
            let name = c
                .map(|c| l.name(&c.name_fa, &c.name_en).to_owned())
                .unwrap_or_default();
            l.t1("scope-county", "name", &name)
        }
        Scope::Organisation { organisation } => {
            let o = hamdeli_app::organisations::named(&state.store, *organisation).await?;
            let name = o
                .map(|o| l.name(&o.name_fa, &o.name_en).to_owned())
                .unwrap_or_default();
            l.t1("scope-organisation", "name", &name)
        }
        Scope::Own => l.t("scope-own"),
    })
}

/// Handles the GET / route.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    match &ctx.principal {
        None => {
            let counts = hamdeli_app::dashboard::public_counts(&state.store).await?;
            html(Landing {
                shell: Shell::new(&ctx, l.t("landing-title")),
                l,
                provinces: counts.provinces,
                counties: counts.counties,
            })
        }
        Some(p) if p.allows(&Action::ViewDashboard) => {
            let caller = crate::use_case::caller(&ctx)?;
            let counts = hamdeli_app::dashboard::counts(&state.store, &caller).await?;
            let scope = scope_words(&state, l, &p.scope).await?;
            html(Dashboard {
                shell: Shell::new(&ctx, l.t("dashboard-title")),
                l,
                counts,
                scope,
                reports: crate::pages::reports::home_figures(&state, &ctx).await?,
            })
        }
        // Capability F (issue 15): a volunteer's home is her volunteer page.
        Some(p) if p.role == hamdeli_domain::Role::Volunteer => {
            Ok(crate::pages::see_other("/network/volunteer"))
        }
        // Capability D (issue 13): a producer's home is her market shop.
        Some(p) if p.role == hamdeli_domain::Role::Producer => {
            Ok(crate::pages::see_other("/market/producer"))
        }
        Some(_) => html(MemberHome {
            shell: Shell::new(&ctx, l.t("member-home-title")),
            l,
        }),
    }
}
