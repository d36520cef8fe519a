//! The bridge to the application layer: the signed-in caller of a request.

use hamdeli_app::Caller;

use crate::context::Ctx;
use crate::error::AppError;

/// The caller of a use case, or an error that sends the visitor to the login page.
pub(crate) fn caller(ctx: &Ctx) -> Result<Caller<'_>, AppError> {
    Ok(Caller::new(ctx.require()?, &ctx.client_addr))
}
