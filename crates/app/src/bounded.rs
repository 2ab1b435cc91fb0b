//! Maps the server keeps in memory for a short while (callers resolved, tokens verified), each
//! with a bound on how many entries it holds.

use std::collections::HashMap;
use std::hash::Hash;

/// Makes room for `key` in `map` when it holds `capacity` entries and not `key`: drops the
/// entries no longer `live`, and all of them when most still are, rather than sweep again at
/// every insert.
pub(crate) fn make_room<K: Eq + Hash, V>(
    map: &mut HashMap<K, V>,
    capacity: usize,
    key: &K,
    mut live: impl FnMut(&V) -> bool,
) {
    if map.len() < capacity || map.contains_key(key) {
        return;
    }
    map.retain(|_, value| live(value));
    if map.len() >= capacity * 3 / 4 {
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_made_from_the_dead_entries_first_and_from_all_when_most_live() {
        let mut map: HashMap<u32, bool> = (0..8).map(|k| (k, k % 4 == 0)).collect();
        make_room(&mut map, 8, &3, |&alive| alive);
        assert_eq!(map.len(), 8, "the key is there already: nothing dropped");
        make_room(&mut map, 8, &100, |&alive| alive);
        assert_eq!(map.len(), 2, "the six dead entries dropped, the live kept");
        let mut full: HashMap<u32, bool> = (0..8).map(|k| (k, k != 0)).collect();
        make_room(&mut full, 8, &100, |&alive| alive);
        assert!(full.is_empty(), "seven of eight live: started afresh");
        let mut roomy: HashMap<u32, bool> = (0..3).map(|k| (k, false)).collect();
        make_room(&mut roomy, 8, &100, |&alive| alive);
        assert_eq!(roomy.len(), 3, "below capacity: untouched");
    }
}
