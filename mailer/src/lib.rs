//! The mail worker: consumes version-1 mail jobs from SQS, renders them with Askama from
//! `templates/`, and sends them with SES v2, reporting per-message outcomes as a partial batch
//! response so one bad message never holds back the others.
//!
//! Domain: [`address`], [`locales`], [`render`]. Port: [`send::EmailSender`], with the
//! SES v2 adapter in [`ses`]. Use case: [`batch`]. The `mailer` binary only wires them.

pub mod address;
pub mod batch;
pub mod config;
pub mod locales;
pub mod redelivery;
pub mod render;
pub mod send;
pub mod ses;
