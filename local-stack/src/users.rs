//! `--state DIR`: the pool's users kept in `users.json`, rewritten atomically after every change
//! by one writer at a time, the snapshot taken under its lock ([`persist::JsonFile`]).
//! Sessions and refresh tokens stay in memory: the signing keys are new at every start, so tokens
//! from an earlier run could not be verified anyway.

use crate::persist::JsonFile;
use local_cognito::store::{AuthSession, Exchange, MemoryStore, RefreshGrant, Store, User, UserExists};
use std::path::PathBuf;

pub struct SavedUsers {
    inner: MemoryStore,
    file: JsonFile,
}

impl SavedUsers {
    pub fn open(file: PathBuf) -> std::io::Result<SavedUsers> {
        let file = JsonFile::new(file);
        let users: Vec<User> = file.load()?.unwrap_or_default();
        Ok(SavedUsers { inner: MemoryStore::with_users(users), file })
    }

    fn save(&self) {
        if let Err(e) = self.file.save_with(|| self.inner.users()) {
            tracing::error!(error = %e, "users not saved");
        }
    }
}

impl Store for SavedUsers {
    fn insert_user(&self, user: User) -> Result<(), UserExists> {
        self.inner.insert_user(user)?;
        self.save();
        Ok(())
    }

    fn user(&self, username: &str) -> Option<User> {
        self.inner.user(username)
    }

    fn update_user(&self, username: &str, change: &mut dyn FnMut(&mut User)) -> Option<User> {
        let user = self.inner.update_user(username, change);
        self.save();
        user
    }

    fn delete_user(&self, username: &str) -> bool {
        let deleted = self.inner.delete_user(username);
        self.save();
        deleted
    }

    fn users(&self) -> Vec<User> {
        self.inner.users()
    }

    fn put_session(&self, token: &str, session: AuthSession) {
        self.inner.put_session(token, session)
    }

    fn take_session(&self, token: &str) -> Option<AuthSession> {
        self.inner.take_session(token)
    }

    fn put_refresh(&self, token: &str, grant: RefreshGrant) {
        self.inner.put_refresh(token, grant)
    }

    fn refresh(&self, token: &str) -> Option<RefreshGrant> {
        self.inner.refresh(token)
    }

    fn revoke_refresh(&self, token: &str) -> bool {
        self.inner.revoke_refresh(token)
    }

    fn revoke_all_refresh(&self, username: &str) {
        self.inner.revoke_all_refresh(username)
    }

    fn origin_revoked(&self, origin_jti: &str) -> bool {
        self.inner.origin_revoked(origin_jti)
    }

    fn exchange_refresh(&self, token: &str, exchange: &mut Exchange<'_>) {
        self.inner.exchange_refresh(token, exchange)
    }
}
