/// Hex digits in an id: the shape of q-connection 0.6.1's ids,
/// `XXXXXXXX-XXXX-4XXX-XXXXXXXXXXXX`, carries 27 random digits (108 bits).
const DIGITS: usize = 27;
const HEX: &[u8; 16] = b"0123456789ABCDEF";
/// Random bytes consumed per id (27 nibbles rounded up).
const BYTES_PER_ID: usize = 14;
/// Bytes fetched from the OS at once, so one syscall serves ~290 ids.
const POOL: usize = BYTES_PER_ID * 292;

/// Makes ids from the operating system's CSPRNG.
///
/// An id is a capability: whoever knows it can send to the value behind it,
/// so ids must not be guessable (0.6.1 used `Math.random`). The textual shape
/// stays 0.6.1's so that old peers and logs see nothing new.
pub struct IdSource {
    pool: Box<[u8; POOL]>,
    used: usize,
}

impl Default for IdSource {
    fn default() -> Self {
        IdSource { pool: Box::new([0; POOL]), used: POOL }
    }
}

impl IdSource {
    /// A fresh id. Panics only if the OS has no entropy source at all, which
    /// no supported platform lacks.
    pub fn next_id(&mut self) -> String {
        if self.used + BYTES_PER_ID > POOL {
            getrandom::fill(&mut self.pool[..]).expect("the OS random source failed");
            self.used = 0;
        }
        let bytes = &self.pool[self.used..self.used + BYTES_PER_ID];
        self.used += BYTES_PER_ID;
        let mut nibbles = bytes.iter().flat_map(|b| [b >> 4, b & 0xF]);
        let mut id = String::with_capacity(DIGITS + 4);
        for (group, len) in [(0, 8), (1, 4), (2, 3), (3, 12)] {
            match group {
                1 | 3 => id.push('-'),
                2 => id.push_str("-4"),
                _ => {}
            }
            for _ in 0..len {
                let nibble = nibbles.next().expect("14 bytes hold 27 nibbles");
                // A table, not `write!("{:X}")`: core::fmt was a tenth of
                // a round trip's time in the engine (perf, bench/).
                id.push(HEX[nibble as usize] as char);
            }
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_shape_of_0_6_1_ids_and_do_not_repeat() {
        let mut source = IdSource::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let id = source.next_id();
            let groups: Vec<&str> = id.split('-').collect();
            assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 12], "{id}");
            assert!(groups[2].starts_with('4'), "{id}");
            assert!(id.chars().all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()));
            assert!(seen.insert(id));
        }
    }
}
