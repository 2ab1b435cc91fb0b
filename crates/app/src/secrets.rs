//! Password hashing (argon2id) and random secrets stored by hash (refresh tokens, API client
//! secrets: high-entropy, so a SHA-256 digest is enough and keeps their checks cheap).

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// How long a login waits for a free password worker before it answers 503.
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// Password work (argon2id, 7 MiB per hash) runs on a few threads of its own, one per core:
/// at most that many hashes are in memory at once, always on the same threads, so a burst of
/// logins waits its turn instead of growing the process, and leaves nothing behind.
struct PasswordWorkers {
    permits: Semaphore,
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

fn workers() -> &'static PasswordWorkers {
    static WORKERS: OnceLock<PasswordWorkers> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let count = std::thread::available_parallelism().map_or(2, usize::from);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..count {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password worker");
            }
        }
        PasswordWorkers {
            permits: Semaphore::new(count),
            jobs,
        }
    })
}

/// Admits one login that checks a password, so that only a few are under way at once (twice
/// the password workers, to keep them busy); waits at most [`BUSY_WAIT`], then answers 503.
pub(crate) async fn admit_password_check() -> Result<tokio::sync::SemaphorePermit<'static>> {
    static ADMITTED: OnceLock<Semaphore> = OnceLock::new();
    let gate = ADMITTED.get_or_init(|| {
        Semaphore::new(2 * std::thread::available_parallelism().map_or(2, usize::from))
    });
    tokio::time::timeout(BUSY_WAIT, gate.acquire())
        .await
        .map_err(|_| Error::Unavailable("too many logins at once; retry shortly".into()))?
        .map_err(|e| Error::Internal(format!("login gate closed: {e}")))
}

/// Runs `work` on a password worker, waiting at most [`BUSY_WAIT`] for one to be free.
async fn on_worker<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let workers = workers();
    let _permit = tokio::time::timeout(BUSY_WAIT, workers.permits.acquire())
        .await
        .map_err(|_| Error::Unavailable("every password worker is busy".into()))?
        .map_err(|e| Error::Internal(format!("password workers closed: {e}")))?;
    let (answer, answered) = tokio::sync::oneshot::channel();
    workers
        .jobs
        .send(Box::new(move || {
            let _ = answer.send(work());
        }))
        .map_err(|_| Error::Internal("password workers stopped".into()))?;
    answered
        .await
        .map_err(|_| Error::Internal("a password worker failed".into()))
}

/// The cost of a new password hash: argon2id with 7 MiB of memory and 5 passes, one of the
/// settings OWASP's password storage guidance gives as equal in strength to 19 MiB and 2 passes
/// (the argon2 crate's default). It takes as long, and a burst of logins needs a third of the
/// memory. A hash stored with other parameters is checked with its own.
fn new_hash_params() -> Params {
    Params::new(7 * 1024, 5, 1, None).unwrap_or_default()
}

/// argon2 of `password` with `salt` under `params` into `out`. Its memory is taken for this hash
/// and given back after it, so a server that hashed passwords once does not keep it for good.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> std::result::Result<(), argon2::Error> {
    let mut memory = vec![Block::default(); params.block_count()];
    Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut memory,
    )
}

/// The PHC string of argon2id ([`new_hash_params`]) of `password` with a random salt.
fn hash_here(password: &[u8]) -> Result<String> {
    let failed =
        |e: &dyn std::fmt::Display| Error::Internal(format!("password hashing failed: {e}"));
    let params = new_hash_params();
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        &params,
        password,
        &salt,
        &mut out,
    )
    .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored` (compared in constant time).
fn verify_here(password: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(hash.algorithm.as_str());
    let version = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let params = Params::try_from(&hash);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, params) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        algorithm,
        version,
        &params,
        password,
        salt.as_ref(),
        &mut out,
    )
    .is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

tokio::task_local! {
    /// Within [`hashing_once`]: the digest of the password hashed once, and its hash.
    static HASHED_ONCE: (String, String);
}

/// Runs `work` with `password` hashed once: every account given that password within it
/// (within this task) gets the same hash, instead of a hash of its own, so accounts created
/// together with one published password, as the demo's are, cost one hash instead of one each.
/// Never for real accounts: accounts sharing a hash are seen to share their password.
pub async fn hashing_once<F: Future>(password: &str, work: F) -> Result<F::Output> {
    let hash = hash_password(password.to_owned()).await?;
    Ok(HASHED_ONCE.scope((digest(password), hash), work).await)
}

/// Hashes a password with argon2id and a random salt, on a password worker (within
/// [`hashing_once`], its password answers the hash made there).
pub async fn hash_password(password: String) -> Result<String> {
    let known = HASHED_ONCE
        .try_with(|(once, hash)| digests_match(once, &digest(&password)).then(|| hash.clone()));
    if let Ok(Some(hash)) = known {
        return Ok(hash);
    }
    on_worker(move || hash_here(password.as_bytes())).await?
}

/// Checks a password against a stored hash, on a password worker. With no stored hash (an
/// unknown account) a dummy hash is checked instead, so both answers take as long.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool> {
    on_worker(move || verify_known(password.as_bytes(), stored.as_deref())).await
}

/// Whether `password` matches `stored`; with no stored hash, the dummy hash is checked and the
/// answer is no, in as long as a known account's check takes.
fn verify_known(password: &[u8], stored: Option<&str>) -> bool {
    match stored {
        Some(stored) => verify_here(password, stored),
        None => {
            verify_here(password, dummy_hash());
            false
        }
    }
}

/// Whether a stored hash was made at the cost of a new one ([`new_hash_params`]).
fn at_current_cost(stored: &str) -> bool {
    let new = new_hash_params();
    PasswordHash::new(stored)
        .ok()
        .and_then(|hash| Params::try_from(&hash).ok())
        .is_some_and(|params| {
            (params.m_cost(), params.t_cost(), params.p_cost())
                == (new.m_cost(), new.t_cost(), new.p_cost())
        })
}

/// A password checked at login: whether it matched, and, when its stored hash was made with
/// other parameters than [`new_hash_params`], a new hash of it to store instead.
pub(crate) struct LoginCheck {
    /// The password matches a stored hash of an existing account.
    pub verified: bool,
    /// A new hash of the password, when the stored one is outdated.
    pub renewed: Option<String>,
}

/// [`verify_password`] for a login: a matching password whose hash has other parameters than a
/// new one would is hashed anew in the same turn on the worker, so that every account comes to
/// the current cost (and to the time an unknown account's check takes) at its next login.
pub(crate) async fn check_login_password(
    password: String,
    stored: Option<String>,
) -> Result<LoginCheck> {
    on_worker(move || {
        let verified = verify_known(password.as_bytes(), stored.as_deref());
        let outdated = stored
            .as_deref()
            .is_some_and(|stored| !at_current_cost(stored));
        let renewed = (verified && outdated)
            .then(|| hash_here(password.as_bytes()))
            .transpose()?;
        Ok(LoginCheck { verified, renewed })
    })
    .await?
}

/// A hash of a random secret with the same parameters as real ones, made once, checked for
/// unknown accounts so that they cost the same time as known ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_here(random_secret("").as_bytes()).unwrap_or_default())
}

/// A new random secret of 32 bytes, base64url, with a readable prefix (`slr_`, `sls_`).
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Seals a refresh token's secret with a key only `key_secret` (the token it replaces) gives:
/// its 32 random bytes XORed with SHA-256 of that secret, base64url. Each key seals one
/// secret, once; the database holds neither secret, so the seal opens only for whoever
/// presents the replaced token.
pub fn seal(secret: &str, key_secret: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(secret.strip_prefix(REFRESH_PREFIX)?)
        .ok()?;
    let key = seal_key(key_secret);
    (bytes.len() == key.len()).then(|| {
        let sealed: Vec<u8> = bytes.iter().zip(key.iter()).map(|(b, k)| b ^ k).collect();
        URL_SAFE_NO_PAD.encode(sealed)
    })
}

/// Opens what [`seal`] sealed with the same `key_secret`.
pub fn unseal(sealed: &str, key_secret: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let key = seal_key(key_secret);
    (bytes.len() == key.len()).then(|| {
        let open: Vec<u8> = bytes.iter().zip(key.iter()).map(|(b, k)| b ^ k).collect();
        format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(open))
    })
}

/// The prefix of refresh token secrets.
pub const REFRESH_PREFIX: &str = "slr_";

fn seal_key(key_secret: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"skinledger refresh successor\0");
    hasher.update(key_secret.as_bytes());
    hasher.finalize().into()
}

/// A new random identifier of 16 bytes, hex, with a prefix.
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// The SHA-256 digest of a secret, hex, as stored.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two digests in constant time.
pub fn digests_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery".into())
            .await
            .unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap_or(false)
        );
        assert!(
            !verify_password("wrong horse battery".into(), Some(hash))
                .await
                .unwrap_or(true)
        );
        assert!(
            !verify_password("anything".into(), None)
                .await
                .unwrap_or(true)
        );
    }

    #[tokio::test]
    async fn within_hashing_once_its_password_is_hashed_once_and_others_as_ever() {
        let (shared, other) = hashing_once("published demo password", async {
            let first = hash_password("published demo password".into()).await;
            let second = hash_password("published demo password".into()).await;
            assert_eq!(first.as_ref().ok(), second.as_ref().ok());
            let other = hash_password("someone else's password".into()).await;
            (first.unwrap_or_default(), other.unwrap_or_default())
        })
        .await
        .unwrap_or_default();
        assert!(
            verify_password("published demo password".into(), Some(shared.clone()))
                .await
                .unwrap_or(false)
        );
        assert!(
            verify_password("someone else's password".into(), Some(other))
                .await
                .unwrap_or(false)
        );
        // Outside, every hash has a salt of its own.
        let again = hash_password("published demo password".into())
            .await
            .unwrap_or_default();
        assert_ne!(again, shared);
    }

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"stored before")
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(verify_here(b"stored before", &theirs));
        assert!(!verify_here(b"stored after", &theirs));
        let ours = hash_here(b"stored now").unwrap_or_default();
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        // New hashes take 7 MiB and 5 passes; hashes stored at the crate's default (19 MiB, 2
        // passes, above) are still checked with their own parameters.
        assert_eq!(parsed.params.to_string(), "m=7168,t=5,p=1");
        assert_ne!(Params::try_from(&parsed).ok(), Some(Params::default()));
        assert!(
            Argon2::default()
                .verify_password(b"stored now", &parsed)
                .is_ok()
        );
        assert!(!verify_here(b"anything", "not a hash"));
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key() {
        let (old, next) = (random_secret(REFRESH_PREFIX), random_secret(REFRESH_PREFIX));
        let sealed = seal(&next, &old).expect("sealed");
        assert!(!sealed.contains(&next[REFRESH_PREFIX.len()..]));
        assert_eq!(unseal(&sealed, &old).as_deref(), Some(next.as_str()));
        assert_ne!(
            unseal(&sealed, &random_secret(REFRESH_PREFIX)).as_deref(),
            Some(next.as_str())
        );
        assert_eq!(seal("not a refresh token", &old), None);
    }

    #[test]
    fn secrets_are_random_and_digests_compare() {
        let (a, b) = (random_secret("slr_"), random_secret("slr_"));
        assert_ne!(a, b);
        assert!(digests_match(&digest(&a), &digest(&a)));
        assert!(!digests_match(&digest(&a), &digest(&b)));
    }
}
