//! Work the kernel owes the driver: queued DPCs, queued I/O work items and armed timers.
//!
//! The objects themselves (their routines and contexts) live in `kernel`; this module only
//! orders them. Who runs them depends on the mode: in threaded mode worker threads block in
//! [`Pending::wait`]; in deterministic mode the seeded scheduler looks at [`Pending::ready`]
//! and takes the item it picked with [`Pending::take`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// What kind of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// A DPC (DISPATCH_LEVEL).
    Dpc,
    /// An I/O work item (PASSIVE_LEVEL).
    Work,
    /// A timer object whose due time has come (DISPATCH_LEVEL).
    Timer,
}

/// One runnable item: its class and the object key (KDPC address, work item or timer handle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Item {
    /// Class.
    pub class: Class,
    /// Object key.
    pub key: u64,
}

#[derive(Debug, Default)]
struct Queues {
    dpcs: VecDeque<u64>,
    work: VecDeque<u64>,
    timers: BTreeMap<(u64, u64), u64>,
    timer_seq: u64,
    running_dpcs: usize,
    running_work: usize,
}

/// The queues.
///
/// Worker threads wait on the condition variable of their classes (`dpc_cv`: DPCs and timers,
/// `work_cv`: work items), so queueing a DPC wakes one DPC worker and not every worker of the
/// host; `cv` wakes those that wait for a state (idle DPCs, an item done).
#[derive(Debug, Default)]
pub struct Pending {
    q: Mutex<Queues>,
    cv: Condvar,
    dpc_cv: Condvar,
    work_cv: Condvar,
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.q.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a DPC.
    pub fn push_dpc(&self, key: u64) {
        self.lock().dpcs.push_back(key);
        self.dpc_cv.notify_one();
    }

    /// Removes a queued DPC; false if it was not queued.
    pub fn remove_dpc(&self, key: u64) -> bool {
        let mut q = self.lock();
        let before = q.dpcs.len();
        q.dpcs.retain(|k| *k != key);
        q.dpcs.len() != before
    }

    /// Queues a work item.
    pub fn push_work(&self, key: u64) {
        self.lock().work.push_back(key);
        self.work_cv.notify_one();
    }

    /// Removes a queued work item; false if it was not queued.
    pub fn remove_work(&self, key: u64) -> bool {
        let mut q = self.lock();
        let before = q.work.len();
        q.work.retain(|k| *k != key);
        q.work.len() != before
    }

    /// Arms (or re-arms) a timer for host-clock time `due`. Returns true if it was armed.
    pub fn arm_timer(&self, key: u64, due: u64) -> bool {
        let mut q = self.lock();
        let was = Self::disarm(&mut q, key);
        q.timer_seq = q.timer_seq.wrapping_add(1);
        let seq = q.timer_seq;
        q.timers.insert((due, seq), key);
        drop(q);
        self.dpc_cv.notify_all();
        was
    }

    fn disarm(q: &mut Queues, key: u64) -> bool {
        let found: Vec<(u64, u64)> = q.timers.iter().filter(|(_, k)| **k == key).map(|(t, _)| *t).collect();
        for t in &found {
            q.timers.remove(t);
        }
        !found.is_empty()
    }

    /// Disarms a timer; true if it was armed.
    pub fn cancel_timer(&self, key: u64) -> bool {
        Self::disarm(&mut self.lock(), key)
    }

    /// True if the object is queued or armed.
    #[must_use]
    pub fn is_queued(&self, class: Class, key: u64) -> bool {
        let q = self.lock();
        match class {
            Class::Dpc => q.dpcs.contains(&key),
            Class::Work => q.work.contains(&key),
            Class::Timer => q.timers.values().any(|k| *k == key),
        }
    }

    /// Deterministic mode: every item that could run now (timers due at or before `now`), and
    /// the earliest timer due later, if any.
    #[must_use]
    pub fn ready(&self, now: u64) -> (Vec<Item>, Option<(u64, u64)>) {
        let q = self.lock();
        let mut items: Vec<Item> = q.dpcs.iter().map(|&key| Item { class: Class::Dpc, key }).collect();
        items.extend(q.work.iter().map(|&key| Item { class: Class::Work, key }));
        let mut later = None;
        for (&(due, _), &key) in &q.timers {
            if due <= now {
                items.push(Item { class: Class::Timer, key });
            } else {
                later = Some((due, key));
                break;
            }
        }
        (items, later)
    }

    /// Takes a specific item off its queue (the scheduler's pick); false if it is gone. The
    /// caller runs it and then calls [`Pending::done`].
    pub fn take(&self, item: Item) -> bool {
        let mut q = self.lock();
        let taken = match item.class {
            Class::Dpc => q.dpcs.iter().position(|k| *k == item.key).map(|i| q.dpcs.remove(i)).is_some(),
            Class::Work => q.work.iter().position(|k| *k == item.key).map(|i| q.work.remove(i)).is_some(),
            Class::Timer => Self::disarm(&mut q, item.key),
        };
        if taken {
            match item.class {
                Class::Dpc | Class::Timer => q.running_dpcs += 1,
                Class::Work => q.running_work += 1,
            }
        }
        taken
    }

    /// Marks an item taken with [`Pending::take`] or [`Pending::wait`] as finished.
    pub fn done(&self, class: Class) {
        let mut q = self.lock();
        match class {
            Class::Dpc | Class::Timer => q.running_dpcs = q.running_dpcs.saturating_sub(1),
            Class::Work => q.running_work = q.running_work.saturating_sub(1),
        }
        drop(q);
        self.cv.notify_all();
    }

    /// Threaded mode: waits up to `timeout` for an item of one of `classes`, takes it and
    /// returns it. Timers are returned when due by the host clock (`now`).
    pub fn wait(&self, classes: &[Class], now: &dyn Fn() -> u64, timeout: Duration) -> Option<Item> {
        let cv = if classes.contains(&Class::Work) { &self.work_cv } else { &self.dpc_cv };
        let deadline = std::time::Instant::now() + timeout;
        let mut q = self.lock();
        loop {
            let mut wait_for = deadline.saturating_duration_since(std::time::Instant::now());
            for class in classes {
                let key = match class {
                    Class::Dpc => q.dpcs.pop_front(),
                    Class::Work => q.work.pop_front(),
                    Class::Timer => {
                        let t = now();
                        match q.timers.iter().next().map(|(k, v)| (*k, *v)) {
                            Some((slot, key)) if slot.0 <= t => {
                                q.timers.remove(&slot);
                                Some(key)
                            }
                            Some((slot, _)) => {
                                wait_for =
                                    wait_for.min(Duration::from_nanos(slot.0.saturating_sub(t).saturating_mul(100)));
                                None
                            }
                            None => None,
                        }
                    }
                };
                if let Some(key) = key {
                    match class {
                        Class::Dpc | Class::Timer => q.running_dpcs += 1,
                        Class::Work => q.running_work += 1,
                    }
                    return Some(Item { class: *class, key });
                }
            }
            if wait_for.is_zero() {
                return None;
            }
            q = cv.wait_timeout(q, wait_for).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Threaded mode: waits until no DPC is queued and no DPC or timer callback is running
    /// (`KeFlushQueuedDpcs`); timers armed or already due but not yet taken by a worker are not
    /// waited for. Gives up after `timeout` and returns false.
    pub fn wait_dpcs_idle(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut q = self.lock();
        while !q.dpcs.is_empty() || q.running_dpcs != 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            q = self.cv.wait_timeout(q, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }

    /// True if nothing is queued, armed or running.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        let q = self.lock();
        q.dpcs.is_empty() && q.work.is_empty() && q.timers.is_empty() && q.running_dpcs == 0 && q.running_work == 0
    }

    /// Wakes every waiter (state they wait on changed).
    pub fn notify(&self) {
        self.cv.notify_all();
        self.dpc_cv.notify_all();
        self.work_cv.notify_all();
    }
}
