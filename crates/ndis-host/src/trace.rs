//! The trace of NDIS-to-miniport and miniport-to-NDIS calls.
//!
//! Events are recorded at three levels: [`Level::Lifecycle`] (registration, initialization,
//! pause, restart, halt, OIDs, status indications, completions of pending operations, error
//! log entries, findings), [`Level::Datapath`] (every send, send completion, receive
//! indication and return), and [`Level::Kernel`] (pool, locks, DPCs, work items). A trace can
//! be printed live, kept for assertions, and rendered as a Mermaid sequence diagram.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How much to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Nothing.
    Off,
    /// Lifecycle and control events.
    Lifecycle,
    /// Also every datapath call.
    Datapath,
    /// Also kernel support calls.
    Kernel,
}

/// Direction of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// NDIS (the host) calls a Miniport handler.
    ToMiniport,
    /// The driver calls an NDIS or kernel function.
    ToNdis,
    /// A note from the host (a finding, a scenario step).
    Note,
}

/// One event.
#[derive(Clone, Debug)]
pub struct Event {
    /// Sequence number.
    pub seq: u64,
    /// Level.
    pub level: Level,
    /// Adapter.
    pub adapter: Option<usize>,
    /// Direction.
    pub dir: Dir,
    /// Function or handler name (or the note).
    pub name: String,
    /// Arguments or details.
    pub detail: String,
    /// The status the call returned, for calls that return one.
    pub status: Option<String>,
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = match self.adapter {
            Some(a) => format!("[{a}]"),
            None => "[-]".to_owned(),
        };
        let arrow = match self.dir {
            Dir::ToMiniport => "NDIS -> miniport",
            Dir::ToNdis => "miniport -> NDIS",
            Dir::Note => "  note",
        };
        write!(f, "{:>7} {who:>4} {arrow}  {}", self.seq, self.name)?;
        if !self.detail.is_empty() {
            write!(f, "({})", self.detail)?;
        }
        if let Some(s) = &self.status {
            write!(f, " = {s}")?;
        }
        Ok(())
    }
}

/// Trace settings.
#[derive(Clone, Debug)]
pub struct TraceConfig {
    /// Events at or below this level are kept.
    pub keep: Level,
    /// Events at or below this level are printed to stdout as they happen.
    pub print: Level,
    /// At most this many events are kept (the oldest are dropped).
    pub max_kept: usize,
}

impl Default for TraceConfig {
    fn default() -> Self {
        Self { keep: Level::Lifecycle, print: Level::Off, max_kept: 200_000 }
    }
}

/// The trace.
#[derive(Debug)]
pub struct Trace {
    config: TraceConfig,
    seq: AtomicU64,
    events: Mutex<std::collections::VecDeque<Event>>,
}

impl Trace {
    /// A trace with `config`.
    #[must_use]
    pub fn new(config: TraceConfig) -> Self {
        Self { config, seq: AtomicU64::new(0), events: Mutex::new(std::collections::VecDeque::new()) }
    }

    /// True if events of `level` are kept or printed.
    #[must_use]
    pub fn wants(&self, level: Level) -> bool {
        level <= self.config.keep || level <= self.config.print
    }

    /// Records an event (the detail is built only if the event is wanted). Returns the
    /// sequence number the event got, or 0 if events of `level` are neither kept nor printed.
    /// Numbers count only the events recorded, so they depend on the levels set.
    pub fn record(
        &self,
        level: Level,
        adapter: Option<usize>,
        dir: Dir,
        name: &str,
        detail: impl FnOnce() -> String,
        status: Option<String>,
    ) -> u64 {
        if !self.wants(level) {
            return 0;
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let event = Event { seq, level, adapter, dir, name: name.to_owned(), detail: detail(), status };
        if level <= self.config.print {
            println!("{event}");
        }
        if level <= self.config.keep && self.config.max_kept > 0 {
            let mut events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if events.len() >= self.config.max_kept {
                events.pop_front();
            }
            events.push_back(event);
        }
        seq
    }

    /// Records a note at the lifecycle level; returns its number as [`Trace::record`] does.
    pub fn note(&self, adapter: Option<usize>, text: impl FnOnce() -> String) -> u64 {
        if !self.wants(Level::Lifecycle) {
            return 0;
        }
        let t = text();
        self.record(Level::Lifecycle, adapter, Dir::Note, &t, String::new, None)
    }

    /// The kept events.
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().cloned().collect()
    }

    /// Renders events as a Mermaid sequence diagram (`sequenceDiagram`), one participant for
    /// NDIS and one per adapter of the miniport.
    #[must_use]
    pub fn mermaid(events: &[Event]) -> String {
        let mut adapters: Vec<usize> = events.iter().filter_map(|e| e.adapter).collect();
        adapters.sort_unstable();
        adapters.dedup();
        let mut out = String::from("sequenceDiagram\n    participant NDIS\n    participant D as rvmini (driver)\n");
        for a in &adapters {
            let _ = writeln!(out, "    participant A{a} as rvmini adapter {a}");
        }
        for e in events {
            let who = e.adapter.map_or_else(|| "D".to_owned(), |a| format!("A{a}"));
            let label = mermaid_text(&e.name, &e.detail);
            match e.dir {
                Dir::ToMiniport => {
                    // "MiniportPause returned" = STATUS is the handler's return: one dashed
                    // arrow back to NDIS, not a second call.
                    if let (Some(handler), Some(s)) = (e.name.strip_suffix(" returned"), &e.status) {
                        let _ = writeln!(out, "    {who}-->>NDIS: {} returns {}", handler, mermaid_text(s, ""));
                        continue;
                    }
                    let _ = writeln!(out, "    NDIS->>{who}: {label}");
                    if let Some(s) = &e.status {
                        let _ = writeln!(out, "    {who}-->>NDIS: {}", mermaid_text(s, ""));
                    }
                }
                Dir::ToNdis => {
                    let _ = writeln!(out, "    {who}->>NDIS: {label}");
                }
                Dir::Note => {
                    let _ = writeln!(out, "    Note over NDIS,{who}: {label}");
                }
            }
        }
        out
    }
}

/// Text safe inside a Mermaid message (no `;`, `#`, newlines or `:` that would end it).
fn mermaid_text(name: &str, detail: &str) -> String {
    let raw = if detail.is_empty() { name.to_owned() } else { format!("{name}({detail})") };
    raw.chars()
        .map(|c| match c {
            ';' | '#' | '\n' | '\r' => ' ',
            ':' => '=',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Dir, Event, Level, Trace};

    fn event(seq: u64, adapter: Option<usize>, dir: Dir, name: &str, detail: &str, status: Option<&str>) -> Event {
        Event {
            seq,
            level: Level::Lifecycle,
            adapter,
            dir,
            name: name.to_owned(),
            detail: detail.to_owned(),
            status: status.map(str::to_owned),
        }
    }

    #[test]
    fn mermaid_has_one_participant_per_adapter_and_one_line_per_event() {
        let events = [
            event(1, None, Dir::ToMiniport, "DriverEntry", "", None),
            event(2, Some(0), Dir::ToMiniport, "MiniportPause", "reason=0x1", None),
            event(3, Some(0), Dir::ToMiniport, "MiniportPause returned", "", Some("NDIS_STATUS_PENDING")),
            event(4, Some(0), Dir::ToNdis, "NdisMPauseComplete", "", None),
            event(5, Some(1), Dir::Note, "pause complete, from NDIS_IO_WORKITEM_ROUTINE: ok; #1", "", None),
        ];
        let text = Trace::mermaid(&events);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "sequenceDiagram",
                "    participant NDIS",
                "    participant D as rvmini (driver)",
                "    participant A0 as rvmini adapter 0",
                "    participant A1 as rvmini adapter 1",
                "    NDIS->>D: DriverEntry",
                "    NDIS->>A0: MiniportPause(reason=0x1)",
                "    A0-->>NDIS: MiniportPause returns NDIS_STATUS_PENDING",
                "    A0->>NDIS: NdisMPauseComplete",
                // `:`, `;` and `#` would end or break a Mermaid message.
                "    Note over NDIS,A1: pause complete, from NDIS_IO_WORKITEM_ROUTINE= ok   1",
            ]
        );
    }
}
