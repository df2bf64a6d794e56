//! The service provider's memory between requests: the AuthnRequests it sent and still waits for, and the
//! assertions it already accepted. Both are bounded, expire by the injected clock, and are checked and updated
//! under one lock each, so two concurrent posts of one Response cannot both pass.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;

use super::SamlError;

#[derive(Debug, Clone)]
struct Outstanding {
    connection_id: String,
    issued_at: DateTime<Utc>,
}

/// The AuthnRequests sent and not yet answered: request ID → (connection, issued-at). SAML Profiles §4.1.4.3: the
/// bearer confirmation's InResponseTo must equal "the ID of its original <AuthnRequest>"; holding each request
/// for one connection and for one use is how a solicited Response is told apart from a replayed, forwarded or
/// cross-connection one.
#[derive(Debug)]
pub struct AuthnRequestStore {
    pending: Mutex<HashMap<String, Outstanding>>,
    lifetime: Duration,
    capacity: usize,
}

impl AuthnRequestStore {
    /// A store whose requests expire after `lifetime`, holding at most `capacity` of them.
    pub fn new(lifetime: Duration, capacity: usize) -> Self {
        AuthnRequestStore { pending: Mutex::new(HashMap::new()), lifetime, capacity: capacity.max(1) }
    }

    /// Records a new request for `connection_id` and returns its ID (an xs:ID, SAML Core §1.3.4: it starts with `_`
    /// and carries 122 random bits).
    pub fn issue(&self, connection_id: &str, now: DateTime<Utc>) -> String {
        let id = format!("_{}", uuid::Uuid::new_v4().simple());
        self.insert(&id, connection_id, now);
        id
    }

    /// Records a request whose ID the caller made. When full, expired requests go first, then the oldest: losing a
    /// pending request only fails that login, it never lets one through.
    pub fn insert(&self, id: &str, connection_id: &str, now: DateTime<Utc>) {
        let mut pending = self.pending.lock();
        if pending.len() >= self.capacity {
            let lifetime = self.lifetime;
            pending.retain(|_, o| o.issued_at + lifetime > now);
        }
        while pending.len() >= self.capacity {
            let Some(oldest) = pending.iter().min_by_key(|(_, o)| o.issued_at).map(|(k, _)| k.clone()) else { break };
            pending.remove(&oldest);
        }
        pending.insert(id.to_owned(), Outstanding { connection_id: connection_id.to_owned(), issued_at: now });
    }

    /// Consumes request `id`: true only if it was pending, for `connection_id`, and not expired. The request is gone
    /// afterwards whatever the answer, so it can never be used twice.
    pub fn take(&self, id: &str, connection_id: &str, now: DateTime<Utc>) -> bool {
        match self.pending.lock().remove(id) {
            Some(o) => o.connection_id == connection_id && now < o.issued_at + self.lifetime,
            None => false,
        }
    }

    /// The connection request `id` is pending for, without consuming it: only for routing a Response to the
    /// service provider that sent its request; [`AuthnRequestStore::take`] still decides.
    pub fn connection_of(&self, id: &str) -> Option<String> {
        self.pending.lock().get(id).map(|o| o.connection_id.clone())
    }

    /// How many requests are pending (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.pending.lock().len()
    }

    /// Whether no request is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The assertions already accepted, keyed by (issuer, assertion ID), each kept until the assertion could no longer
/// be accepted anyway (its NotOnOrAfter plus the skew). SAML Profiles §4.1.4.5: "the service provider MUST ensure
/// that bearer assertions are not replayed, by maintaining the set of used ID values for the length of time for
/// which the assertion would be considered valid".
#[derive(Debug)]
pub struct ReplayCache {
    seen: Mutex<HashMap<(String, String), DateTime<Utc>>>,
    capacity: usize,
}

impl ReplayCache {
    /// A cache of at most `capacity` unexpired assertions.
    pub fn new(capacity: usize) -> Self {
        ReplayCache { seen: Mutex::new(HashMap::new()), capacity: capacity.max(1) }
    }

    /// Records assertion `id` of `issuer` until `keep_until`, or refuses it if it was seen and is still kept. When
    /// full of unexpired entries it refuses too: forgetting one would reopen it to replay.
    pub fn check_and_insert(
        &self,
        issuer: &str,
        id: &str,
        keep_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), SamlError> {
        let mut seen = self.seen.lock();
        let key = (issuer.to_owned(), id.to_owned());
        if seen.get(&key).is_some_and(|until| *until > now) {
            return Err(SamlError::Replay(id.to_owned()));
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, until| *until > now);
            if seen.len() >= self.capacity {
                return Err(SamlError::ReplayCacheFull);
            }
        }
        seen.insert(key, keep_until);
        Ok(())
    }

    /// How many assertions are remembered.
    pub fn len(&self) -> usize {
        self.seen.lock().len()
    }

    /// Whether no assertion is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).single().expect("valid date")
    }

    #[test]
    fn a_request_is_taken_once_by_its_own_connection_before_it_expires() {
        let store = AuthnRequestStore::new(Duration::minutes(10), 10);
        let id = store.issue("conn-a", t0());
        assert!(id.starts_with('_'));
        assert!(store.take(&id, "conn-a", t0()));
        assert!(!store.take(&id, "conn-a", t0()), "single use");

        let other = store.issue("conn-a", t0());
        assert!(!store.take(&other, "conn-b", t0()), "bound to its connection");
        assert!(!store.take(&other, "conn-a", t0()), "a failed take still consumes it");

        let late = store.issue("conn-a", t0());
        assert!(!store.take(&late, "conn-a", t0() + Duration::minutes(10)), "expired at exactly its lifetime");
        let in_time = store.issue("conn-a", t0());
        assert!(store.take(&in_time, "conn-a", t0() + Duration::minutes(10) - Duration::milliseconds(1)));
    }

    #[test]
    fn the_request_store_is_bounded() {
        let store = AuthnRequestStore::new(Duration::minutes(10), 3);
        let first = store.issue("c", t0());
        for i in 1..=3 {
            store.issue("c", t0() + Duration::seconds(i));
        }
        assert_eq!(store.len(), 3);
        assert!(!store.take(&first, "c", t0() + Duration::seconds(5)), "the oldest was evicted");
    }

    #[test]
    fn the_replay_cache_refuses_a_second_use_until_expiry_and_when_full() {
        let cache = ReplayCache::new(2);
        let until = t0() + Duration::minutes(5);
        assert_eq!(cache.check_and_insert("idp", "a1", until, t0()), Ok(()));
        assert_eq!(cache.check_and_insert("idp", "a1", until, t0()), Err(SamlError::Replay("a1".into())));
        assert_eq!(cache.check_and_insert("other-idp", "a1", until, t0()), Ok(()), "keyed by issuer too");
        assert_eq!(cache.check_and_insert("idp", "a2", until, t0()), Err(SamlError::ReplayCacheFull));
        assert_eq!(cache.check_and_insert("idp", "a2", until + Duration::minutes(1), until), Ok(()), "expired swept");
    }
}
