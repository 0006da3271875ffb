//! The transmit FIFO.
//!
//! Sends are queued as they arrive and transmitted later from a DPC, so NBLs wait in a queue the
//! miniport owns. The queue links nodes through a field the miniport owns (for an NBL, one of
//! its `MiniportReserved` slots), never through NDIS's own `Next` field, following the ownership
//! rule public drivers converged on (Wintun links its active NBLs through `MiniportReserved`).
//!
//! The queue is not synchronised: its owner keeps it under a lock. What the lock buys is the
//! property the model checker verifies (`tests/loom_queue.rs`): every node that enters leaves
//! exactly once, through transmission ([`Fifo::take`]), a pause flush ([`Fifo::take_all`]) or a
//! cancellation ([`Fifo::extract`]), however those race.

use core::marker::PhantomData;
use core::ptr::NonNull;

/// A node type that carries a queue link.
///
/// # Safety
/// `next` and `set_next` must read and write a link field that only the queue's owner uses
/// while the node is queued, and `node` must point to a live node.
pub unsafe trait QueueLink {
    /// The successor of `node`.
    ///
    /// # Safety
    /// `node` points to a live node owned by the queue's owner.
    unsafe fn next(node: NonNull<Self>) -> Option<NonNull<Self>>;
    /// Sets the successor of `node`.
    ///
    /// # Safety
    /// As for [`QueueLink::next`].
    unsafe fn set_next(node: NonNull<Self>, next: Option<NonNull<Self>>);
}

/// A detached, ordered list of nodes linked through [`QueueLink`].
#[derive(Debug)]
pub struct Chain<T: QueueLink> {
    head: Option<NonNull<T>>,
    tail: Option<NonNull<T>>,
    len: usize,
    _owns: PhantomData<T>,
}

// SAFETY: a chain is a set of raw node pointers the owner handed over; moving the chain between
// threads moves that ownership, exactly as the driver moves NBLs between a send call and a DPC.
unsafe impl<T: QueueLink> Send for Chain<T> {}

impl<T: QueueLink> Default for Chain<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: QueueLink> Chain<T> {
    /// An empty chain.
    #[must_use]
    pub const fn new() -> Self {
        Self { head: None, tail: None, len: 0, _owns: PhantomData }
    }

    /// Number of nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The nodes, in order, without removing them.
    #[must_use]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { next: self.head, left: self.len, _chain: PhantomData }
    }

    /// Appends one node.
    ///
    /// # Safety
    /// `node` is live, owned by the caller, and in no other chain or queue.
    pub unsafe fn push_back(&mut self, node: NonNull<T>) {
        // SAFETY: the caller hands over a live node; its link is ours from now on.
        unsafe { T::set_next(node, None) };
        match self.tail {
            // SAFETY: `tail` is a live node of this chain.
            Some(tail) => unsafe { T::set_next(tail, Some(node)) },
            None => self.head = Some(node),
        }
        self.tail = Some(node);
        self.len = self.len.saturating_add(1);
    }

    /// Removes and returns the first node.
    pub fn pop_front(&mut self) -> Option<NonNull<T>> {
        let node = self.head?;
        // SAFETY: `node` is a live node of this chain, so its link is valid.
        self.head = unsafe { T::next(node) };
        if self.head.is_none() {
            self.tail = None;
        }
        self.len = self.len.saturating_sub(1);
        Some(node)
    }

    /// Appends all of `other`, keeping order. Takes `other` by value: its nodes change owner.
    #[allow(clippy::needless_pass_by_value)]
    pub fn append(&mut self, other: Chain<T>) {
        let Chain { head: Some(other_head), tail: other_tail, len: other_len, .. } = other else {
            return;
        };
        match self.tail {
            // SAFETY: `tail` is a live node of this chain; `other_head` now belongs to it.
            Some(tail) => unsafe { T::set_next(tail, Some(other_head)) },
            None => self.head = Some(other_head),
        }
        self.tail = other_tail;
        self.len = self.len.saturating_add(other_len);
    }
}

impl<'a, T: QueueLink> IntoIterator for &'a Chain<T> {
    type Item = NonNull<T>;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// Iterator over a [`Chain`]'s nodes.
pub struct Iter<'a, T: QueueLink> {
    next: Option<NonNull<T>>,
    left: usize,
    _chain: PhantomData<&'a Chain<T>>,
}

impl<T: QueueLink> Iterator for Iter<'_, T> {
    type Item = NonNull<T>;
    fn next(&mut self) -> Option<NonNull<T>> {
        if self.left == 0 {
            return None;
        }
        let node = self.next?;
        self.left = self.left.saturating_sub(1);
        // SAFETY: `node` is a live node of the borrowed chain, whose links stay intact while
        // the chain is borrowed.
        self.next = unsafe { T::next(node) };
        Some(node)
    }
}

/// The queue: a [`Chain`] plus the operations the transmit path needs.
#[derive(Debug, Default)]
pub struct Fifo<T: QueueLink> {
    chain: Chain<T>,
}

impl<T: QueueLink> Fifo<T> {
    /// An empty queue.
    #[must_use]
    pub const fn new() -> Self {
        Self { chain: Chain::new() }
    }

    /// Number of queued nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.chain.len()
    }

    /// True if empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.chain.is_empty()
    }

    /// Queues all of `chain` at the back, keeping order.
    pub fn push_chain(&mut self, chain: Chain<T>) {
        self.chain.append(chain);
    }

    /// Takes up to `max` nodes from the front, in order.
    pub fn take(&mut self, max: usize) -> Chain<T> {
        if max >= self.chain.len() {
            return self.take_all();
        }
        let mut out = Chain::new();
        for _ in 0..max {
            match self.chain.pop_front() {
                // SAFETY: the node just left this queue and is live.
                Some(node) => unsafe { out.push_back(node) },
                None => break,
            }
        }
        out
    }

    /// Takes every queued node, in order.
    pub fn take_all(&mut self) -> Chain<T> {
        core::mem::take(&mut self.chain)
    }

    /// Removes every node for which `matches` is true, keeping the order of both the removed
    /// and the remaining nodes.
    pub fn extract(&mut self, mut matches: impl FnMut(NonNull<T>) -> bool) -> Chain<T> {
        let mut kept = Chain::new();
        let mut out = Chain::new();
        while let Some(node) = self.chain.pop_front() {
            let target = if matches(node) { &mut out } else { &mut kept };
            // SAFETY: the node just left this queue and is live.
            unsafe { target.push_back(node) };
        }
        self.chain = kept;
        out
    }
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;
    use core::cell::Cell;

    struct Node {
        id: u32,
        link: Cell<Option<NonNull<Node>>>,
    }

    // SAFETY: `link` is used by the queue only.
    unsafe impl QueueLink for Node {
        unsafe fn next(node: NonNull<Self>) -> Option<NonNull<Self>> {
            // SAFETY: the caller guarantees `node` is live.
            unsafe { node.as_ref() }.link.get()
        }
        unsafe fn set_next(node: NonNull<Self>, next: Option<NonNull<Self>>) {
            // SAFETY: the caller guarantees `node` is live.
            unsafe { node.as_ref() }.link.set(next);
        }
    }

    fn nodes(n: u32) -> Vec<Node> {
        (0..n).map(|id| Node { id, link: Cell::new(None) }).collect()
    }

    fn ids(mut c: Chain<Node>) -> Vec<u32> {
        let mut v = Vec::new();
        while let Some(n) = c.pop_front() {
            // SAFETY: nodes live in the test's vector for the whole test.
            v.push(unsafe { n.as_ref() }.id);
        }
        v
    }

    fn chain_of(ns: &[Node]) -> Chain<Node> {
        let mut c = Chain::new();
        for n in ns {
            // SAFETY: each node is live and pushed once.
            unsafe { c.push_back(NonNull::from(n)) };
        }
        c
    }

    #[test]
    fn fifo_keeps_order_across_batches() {
        let ns = nodes(10);
        let mut q = Fifo::new();
        q.push_chain(chain_of(&ns[..4]));
        q.push_chain(chain_of(&ns[4..]));
        assert_eq!(q.len(), 10);
        assert_eq!(ids(q.take(3)), vec![0, 1, 2]);
        assert_eq!(ids(q.take(100)), vec![3, 4, 5, 6, 7, 8, 9]);
        assert!(q.is_empty());
        assert!(q.take(1).is_empty());
    }

    #[test]
    fn extract_removes_matches_and_keeps_order() {
        let ns = nodes(8);
        let mut q = Fifo::new();
        q.push_chain(chain_of(&ns));
        // SAFETY: nodes are live.
        let odd = q.extract(|n| unsafe { n.as_ref() }.id % 2 == 1);
        assert_eq!(ids(odd), vec![1, 3, 5, 7]);
        assert_eq!(q.len(), 4);
        // The remaining queue still accepts nodes at its (new) tail.
        let extra = nodes(1);
        q.push_chain(chain_of(&extra));
        assert_eq!(ids(q.take_all()), vec![0, 2, 4, 6, 0]);
    }

    #[test]
    fn iter_does_not_consume() {
        let ns = nodes(4);
        let c = chain_of(&ns);
        // SAFETY: nodes are live.
        let seen: Vec<u32> = c.iter().map(|n| unsafe { n.as_ref() }.id).collect();
        assert_eq!(seen, vec![0, 1, 2, 3]);
        assert_eq!(c.len(), 4);
        assert_eq!(ids(c), vec![0, 1, 2, 3]);
    }

    #[test]
    fn extract_everything_and_nothing() {
        let ns = nodes(3);
        let mut q = Fifo::new();
        q.push_chain(chain_of(&ns));
        assert!(q.extract(|_| false).is_empty());
        assert_eq!(ids(q.extract(|_| true)), vec![0, 1, 2]);
        assert!(q.is_empty());
        q.push_chain(chain_of(&ns[..1]));
        assert_eq!(q.len(), 1);
    }
}
