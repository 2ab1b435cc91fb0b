//! The server's memory allocator: mimalloc, set to give memory back to the operating system as
//! soon as it is freed.
//!
//! mimalloc keeps freed pages for a second before it gives them back, and only when the thread
//! that freed them allocates again. A password worker that has just hashed (7 MiB) and then
//! waits, or the connections of a burst that have closed, would keep that memory resident for
//! as long as the server is idle. With no delay the server stays near its resting size between
//! bursts; the throughput of reads is the same (see docs/performance.md).
//!
//! `MIMALLOC_PURGE_DELAY` in the environment still overrides this, as mimalloc documents.

#![allow(
    unsafe_code,
    reason = "one call into mimalloc's C library, which has no safe binding for its options"
)]

pub use mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: milliseconds before freed memory is given back.
/// `libmimalloc-sys` names only some options; this is its place in `mi_option_e` (mimalloc.h).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's own default for [`PURGE_DELAY`], in milliseconds.
pub const DEFAULT_PURGE_DELAY_MS: std::ffi::c_long = 1000;

/// Makes freed memory go back to the operating system at once (unless the environment set the
/// delay). Called first thing in `main`.
pub fn give_back_freed_memory_at_once() {
    // SAFETY: `mi_option_set_default` takes two integers and writes one entry of mimalloc's
    // option table; it has no pointer arguments and is documented as callable at any time. An
    // option the environment set keeps the environment's value.
    unsafe { libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 0) };
}

/// The purge delay mimalloc uses now, in milliseconds.
pub fn purge_delay_ms() -> std::ffi::c_long {
    // SAFETY: `mi_option_get` takes an integer and reads one entry of mimalloc's option table
    // (reading the environment once if it was never read); no pointer is involved.
    unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // The index names mimalloc's purge delay: it holds mimalloc's documented default first
        // (no MIMALLOC_PURGE_DELAY here), then what was set.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay_ms(), DEFAULT_PURGE_DELAY_MS);
        }
        give_back_freed_memory_at_once();
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay_ms(), 0);
        }
    }
}
