//! Routing: which part of the mock a request is for, and an API request's
//! fields read once into an [`ApiRequest`].
//!
//! `/api/v2` and `/api/v2/` are the API (or `/api/v1`, `/api.php` under the
//! path profiles); `/__mock/…` is the admin API; anything else is a 404.

use smm_contract::{field, Action};

use crate::profile::{Profile, Profiles};
use crate::request::Fields;

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The panel's API.
    Api,
    /// The API path with a trailing slash, redirected to this path
    /// (`trailing-slash-redirect`).
    Redirect(String),
    /// The admin API, when it is on.
    Admin,
    /// Nothing: a JSON 404 that names the API path.
    NotFound {
        /// Where the API is.
        api: &'static str,
    },
}

/// The path the API is served on, as the path profiles say.
pub fn api_path(paths: Profiles) -> &'static str {
    if paths.has(Profile::ApiV1Path) {
        "/api/v1"
    } else if paths.has(Profile::ApiPhpPath) {
        "/api.php"
    } else {
        "/api/v2"
    }
}

/// Routes a request for `path`.
pub fn route(path: &str, paths: Profiles, admin: bool) -> Route {
    let base = api_path(paths);
    let slash_allowed = !paths.has(Profile::ApiPhpPath);
    let trailing = slash_allowed && path.strip_suffix('/') == Some(base);
    if trailing && paths.has(Profile::TrailingSlashRedirect) {
        return Route::Redirect(base.to_owned());
    }
    if path == base || trailing {
        return Route::Api;
    }
    if admin && (path == "/__mock" || path.starts_with("/__mock/")) {
        return Route::Admin;
    }
    Route::NotFound { api: base }
}

/// The ids an action was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids<'r> {
    /// The single form (`order=`, `refill=`): the id, if it was sent.
    One(Option<&'r str>),
    /// The bulk form (`orders=`, `refills=`): the comma-separated list as sent.
    Many(&'r str),
}

/// What an API request asks, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call<'r> {
    /// The catalogue.
    Services,
    /// The balance.
    Balance,
    /// An order: the fields its service's type takes.
    Add(&'r Fields),
    /// Order statuses.
    Status(Ids<'r>),
    /// Refills.
    Refill(Ids<'r>),
    /// Refill statuses.
    RefillStatus(Ids<'r>),
    /// Cancels: `orders` (or, as real panels read it, a single `order`).
    Cancel(Ids<'r>),
}

/// An API request: its fields, and the action they name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    fields: Fields,
    action: Option<Action>,
}

impl ApiRequest {
    /// Reads `fields` as an API request.
    pub fn new(fields: Fields) -> ApiRequest {
        let action = fields.get(field::ACTION).and_then(Action::parse);
        ApiRequest { fields, action }
    }

    /// The key as sent (empty when missing).
    pub fn key(&self) -> &str {
        self.fields.get(field::KEY).unwrap_or("")
    }

    /// The action, when it is one of the contract's.
    pub fn action(&self) -> Option<Action> {
        self.action
    }

    /// What the request asks, when its action is known.
    pub fn call(&self) -> Option<Call<'_>> {
        let ids = |action: Action| {
            let bulk = action.bulk_field().and_then(|f| self.fields.get(f));
            match bulk {
                Some(list) => Ids::Many(list),
                None => Ids::One(action.id_field().and_then(|f| self.fields.get(f))),
            }
        };
        Some(match self.action? {
            Action::Services => Call::Services,
            Action::Balance => Call::Balance,
            Action::Add => Call::Add(&self.fields),
            action @ Action::Status => Call::Status(ids(action)),
            action @ Action::Refill => Call::Refill(ids(action)),
            action @ Action::RefillStatus => Call::RefillStatus(ids(action)),
            action @ Action::Cancel => Call::Cancel(match ids(action) {
                Ids::One(_) => Ids::One(self.fields.get(field::ORDER)),
                many => many,
            }),
        })
    }

    /// Whether it asks in a bulk form (`orders=`, `refills=`).
    pub fn is_bulk(&self) -> bool {
        matches!(
            self.call(),
            Some(
                Call::Status(Ids::Many(_))
                    | Call::Refill(Ids::Many(_))
                    | Call::RefillStatus(Ids::Many(_))
                    | Call::Cancel(Ids::Many(_))
            )
        )
    }

    /// The fields, as sent.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The fields, as sent.
    pub fn into_fields(self) -> Fields {
        self.fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&str, &str)]) -> ApiRequest {
        ApiRequest::new(Fields::from_pairs(pairs.iter().copied()).unwrap())
    }

    #[test]
    fn paths_route_as_the_profiles_say() {
        let none = Profiles::NONE;
        assert_eq!(route("/api/v2", none, true), Route::Api);
        assert_eq!(route("/api/v2/", none, true), Route::Api);
        assert_eq!(
            route("/api/v1", none, true),
            Route::NotFound { api: "/api/v2" }
        );
        assert_eq!(route("/__mock/clock", none, true), Route::Admin);
        assert!(matches!(
            route("/__mock/clock", none, false),
            Route::NotFound { .. }
        ));
        let redirect = Profiles::NONE.with(Profile::TrailingSlashRedirect);
        assert_eq!(
            route("/api/v2/", redirect, true),
            Route::Redirect("/api/v2".into())
        );
        let php = Profiles::NONE.with(Profile::ApiPhpPath);
        assert_eq!(route("/api.php", php, true), Route::Api);
        assert!(matches!(
            route("/api.php/", php, true),
            Route::NotFound { .. }
        ));
        assert!(matches!(
            route("/api/v2", php, true),
            Route::NotFound { api: "/api.php" }
        ));
    }

    #[test]
    fn calls_are_typed_once() {
        let bulk = request(&[("action", "status"), ("order", "1"), ("orders", "2,3")]);
        assert_eq!(bulk.call(), Some(Call::Status(Ids::Many("2,3"))));
        assert!(bulk.is_bulk());
        let single = request(&[("key", "k"), ("action", "refill_status"), ("refill", "7")]);
        assert_eq!(single.call(), Some(Call::RefillStatus(Ids::One(Some("7")))));
        assert_eq!(single.key(), "k");
        let cancel = request(&[("action", "cancel"), ("order", "9")]);
        assert_eq!(cancel.call(), Some(Call::Cancel(Ids::One(Some("9")))));
        assert!(!cancel.is_bulk());
        assert_eq!(request(&[("action", "Balance")]).call(), None);
        assert_eq!(request(&[]).key(), "");
    }
}
