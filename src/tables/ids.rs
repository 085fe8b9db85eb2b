/// Hex digits in an id, every one random: 128 bits, written in the layout of
/// an RFC 4122 UUID, `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`, upper case.
/// q-connection 0.6.1 means to write v4 UUIDs but drops a group
/// (`XXXXXXXX-XXXX-4XXX-XXXXXXXXXXXX`, 27 random digits from `Math.random`);
/// that layout cannot hold 128 bits, so ours has the full one. Peers treat
/// ids as opaque strings, 0.6.1 included.
const DIGITS: usize = 32;
const HEX: &[u8; 16] = b"0123456789ABCDEF";
/// Random bytes consumed per id (32 nibbles).
const BYTES_PER_ID: usize = 16;
/// Bytes fetched from the OS at once, so one syscall serves 256 ids.
const POOL: usize = BYTES_PER_ID * 256;

/// Makes ids from the operating system's CSPRNG.
///
/// An id is a capability: whoever knows it can send to the value behind it,
/// so ids must not be guessable (0.6.1 used `Math.random`).
pub struct IdSource {
    pool: Box<[u8; POOL]>,
    used: usize,
}

impl Default for IdSource {
    fn default() -> Self {
        IdSource {
            pool: Box::new([0; POOL]),
            used: POOL,
        }
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
        // Two digits per byte, a dash before bytes 4, 6, 8 and 10 (after
        // 8, 12, 16 and 20 digits). Bytes, not chars: pushing chars one at
        // a time was most of the cost.
        let mut id = Vec::with_capacity(DIGITS + 4);
        for (i, byte) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                id.push(b'-');
            }
            // A table, not `write!("{:X}")`: core::fmt was a tenth of a
            // round trip's time in the engine (perf, bench/).
            id.push(HEX[usize::from(byte >> 4)]);
            id.push(HEX[usize::from(byte & 0xF)]);
        }
        String::from_utf8(id).expect("hex digits and dashes are ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_with_128_random_bits_and_do_not_repeat() {
        let mut source = IdSource::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let id = source.next_id();
            let groups: Vec<&str> = id.split('-').collect();
            assert_eq!(
                groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{id}"
            );
            assert!(id
                .chars()
                .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()));
            assert!(seen.insert(id));
        }
        // Every digit position takes every value: no fixed digit is left.
        let ids: Vec<String> = (0..2000)
            .map(|_| source.next_id().replace('-', ""))
            .collect();
        for position in 0..DIGITS {
            let values: std::collections::HashSet<u8> =
                ids.iter().map(|id| id.as_bytes()[position]).collect();
            assert_eq!(values.len(), 16, "digit {position}");
        }
    }
}
