//! `mail-preview`: what designers use to see and check the emails without AWS.
//!
//! - [`catalog`]: every template × fixture × locale, from `templates/<template>/fixtures/*.json`
//!   (fixtures are version-1 mail jobs, so a preview is exactly what the mailer would send);
//! - [`mime`]: the raw message as an `.eml`;
//! - [`checks`]: the rules that catch template mistakes before users do;
//! - [`server`] and [`export`]: the browser preview, live or as static files.

pub mod catalog;
pub mod checks;
pub mod export;
pub mod html_scan;
pub mod mime;
pub mod pages;
pub mod server;
