//! Statistics counters, kept with atomic adds so that every CPU can count without a lock
//! (netvmini's counters were plain increments from several CPUs; ours are not).
//!
//! The counters are the ones `NDIS_STATISTICS_INFO` reports (`OID_GEN_STATISTICS`), named after
//! its fields, plus the receive-overrun counter behind `OID_GEN_RCV_NO_BUFFER`.

use crate::frame::Destination;
use crate::sync::{AtomicU64, Ordering};

/// One direction's frame and byte counters by destination class.
#[derive(Debug, Default)]
pub struct Direction {
    /// Directed frames.
    pub ucast_frames: AtomicU64,
    /// Multicast frames.
    pub mcast_frames: AtomicU64,
    /// Broadcast frames.
    pub bcast_frames: AtomicU64,
    /// Directed bytes.
    pub ucast_bytes: AtomicU64,
    /// Multicast bytes.
    pub mcast_bytes: AtomicU64,
    /// Broadcast bytes.
    pub bcast_bytes: AtomicU64,
}

/// A batch of frames counted locally and added to [`Direction`] once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Frames by class: directed, multicast, broadcast.
    pub frames: [u64; 3],
    /// Bytes by class.
    pub bytes: [u64; 3],
}

impl Tally {
    /// Counts one frame of `len` bytes.
    pub fn add(&mut self, dest: Destination, len: usize) {
        let i = match dest {
            Destination::Directed => 0,
            Destination::Multicast => 1,
            Destination::Broadcast => 2,
        };
        if let (Some(f), Some(b)) = (self.frames.get_mut(i), self.bytes.get_mut(i)) {
            *f = f.wrapping_add(1);
            *b = b.wrapping_add(len as u64);
        }
    }

    /// Total frames (used by the unit tests only).
    #[cfg(test)]
    #[must_use]
    pub fn total_frames(&self) -> u64 {
        self.frames.iter().fold(0u64, |a, b| a.wrapping_add(*b))
    }
}

impl Direction {
    /// Adds a tally.
    pub fn add(&self, t: &Tally) {
        let [uf, mf, bf] = t.frames;
        let [ub, mb, bb] = t.bytes;
        for (counter, v) in [
            (&self.ucast_frames, uf),
            (&self.mcast_frames, mf),
            (&self.bcast_frames, bf),
            (&self.ucast_bytes, ub),
            (&self.mcast_bytes, mb),
            (&self.bcast_bytes, bb),
        ] {
            if v != 0 {
                counter.fetch_add(v, Ordering::Relaxed);
            }
        }
    }

    /// All frames.
    #[must_use]
    pub fn frames(&self) -> u64 {
        self.ucast_frames
            .load(Ordering::Relaxed)
            .wrapping_add(self.mcast_frames.load(Ordering::Relaxed))
            .wrapping_add(self.bcast_frames.load(Ordering::Relaxed))
    }

    /// All bytes.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.ucast_bytes
            .load(Ordering::Relaxed)
            .wrapping_add(self.mcast_bytes.load(Ordering::Relaxed))
            .wrapping_add(self.bcast_bytes.load(Ordering::Relaxed))
    }
}

/// All counters of one adapter.
#[derive(Debug, Default)]
pub struct Stats {
    /// Frames received (indicated).
    pub rx: Direction,
    /// Frames transmitted.
    pub tx: Direction,
    /// Frames that reached the adapter but were dropped: no receive buffer left. The only
    /// receive discard rvmini has, so it is also `OID_GEN_RCV_DISCARDS` and `ifInDiscards`.
    pub rx_no_buffer: AtomicU64,
    /// Receive errors (malformed frames delivered to the adapter).
    pub rx_errors: AtomicU64,
    /// Send NBLs failed because a frame was malformed.
    pub tx_errors: AtomicU64,
    /// Send NBLs completed without being transmitted: refused by the send handler (not
    /// Running, low power, reset, removal, shutdown, too many outstanding), refused because the
    /// queue was full, or flushed from the queue (pause, reset, low power, surprise removal,
    /// shutdown) or cancelled.
    pub tx_discards: AtomicU64,
}

impl Stats {
    /// Adds `n` to a counter.
    pub fn bump(counter: &AtomicU64, n: u64) {
        if n != 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Reads a counter.
    #[must_use]
    pub fn read(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;

    #[test]
    fn tallies_add_up() {
        let s = Stats::default();
        let mut t = Tally::default();
        t.add(Destination::Directed, 100);
        t.add(Destination::Directed, 60);
        t.add(Destination::Broadcast, 42);
        s.tx.add(&t);
        s.tx.add(&t);
        assert_eq!(s.tx.frames(), 6);
        assert_eq!(s.tx.bytes(), 404);
        assert_eq!(Stats::read(&s.tx.ucast_frames), 4);
        assert_eq!(Stats::read(&s.tx.bcast_bytes), 84);
        assert_eq!(s.rx.frames(), 0);
        assert_eq!(t.total_frames(), 3);
    }
}
