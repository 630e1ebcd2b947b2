//! The preview table of a bulk-registration file, virtualised: a fixed-height scroll box holds
//! one table whose spacer rows stand in for the rows above and below the visible ones, so a
//! 100,000-row file puts only about sixty rows in the page. Rows come from the parser on
//! request (see [`crate::bulk_worker`]) and are kept in a [`RowCache`].
//!
//! The Problems column comes right after Line, so it is in view whatever the number of
//! columns; a row with problems expands (its button) to show them all in full. Sizes are set
//! through the CSSOM (`style:` properties) or classes, never a `style` attribute, which the
//! Content-Security-Policy (`style-src 'self'`) blocks.

use std::collections::HashSet;
use std::sync::Arc;

use anchorage_common::bulk::{self, Severity};
use leptos::prelude::*;

use super::{Existing, Ready};
use crate::bulk_worker::RowView;

/// Height of every row in pixels (the stylesheet's `.preview tr` says the same).
const ROW_HEIGHT: usize = 32;
/// Rows that fit the scroll box (480 px, header included).
const VISIBLE: usize = 15;
/// Rows rendered beyond the visible ones, on each side.
const OVERSCAN: usize = 20;
// The parser's first reply carries the rows rendered at first, so the preview needs no
// second round trip to show.
const _: () = assert!(VISIBLE + OVERSCAN <= crate::bulk_worker::protocol::FIRST_ROWS as usize);
/// Rows asked for beyond the rendered ones, on each side, so scrolling rarely waits.
const PREFETCH: usize = 120;
/// Rows kept before the cache is trimmed to the ones around the view.
const CACHE_LIMIT: usize = 4000;

/// The rows received for the current file (by index), and which are on their way. Plain
/// vectors: a 100,000-row file needs 0.8 MB for them, and no hash map code.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowCache {
    pub rows: RwSignal<Vec<Option<Arc<RowView>>>>,
    requested: StoredValue<Vec<bool>>,
    held: StoredValue<usize>,
}

impl RowCache {
    pub fn new() -> Self {
        RowCache { rows: RwSignal::new(Vec::new()), requested: StoredValue::new(Vec::new()), held: StoredValue::new(0) }
    }

    /// Forgets every row; a file of `rows` rows comes.
    pub fn reset(&self, rows: usize) {
        self.rows.set(vec![None; rows]);
        self.requested.set_value(vec![false; rows]);
        self.held.set_value(0);
    }

    /// Stores rows that arrived.
    pub fn insert(&self, rows: Vec<RowView>) {
        let mut added = 0;
        self.rows.update(|cache| {
            for row in rows {
                if let Some(slot) = cache.get_mut(row.index as usize) {
                    added += usize::from(slot.is_none());
                    *slot = Some(Arc::new(row));
                }
            }
        });
        self.held.update_value(|n| *n += added);
    }

    /// The row at `index`, if here (tracked).
    pub fn get(&self, index: u32) -> Option<Arc<RowView>> {
        self.rows.with(|cache| cache.get(index as usize).cloned().flatten())
    }

    /// Asks for the rows of `wanted` neither here nor on their way; first trims the cache to
    /// `wanted` when it grew large.
    fn request_missing(&self, wanted: Vec<u32>, request: Callback<Vec<u32>>) {
        if self.held.get_value() > CACHE_LIMIT {
            let mut keep = vec![false; self.rows.with_untracked(Vec::len)];
            for &i in &wanted {
                if let Some(k) = keep.get_mut(i as usize) {
                    *k = true;
                }
            }
            let mut held = 0;
            self.rows.update(|cache| {
                for (slot, keep) in cache.iter_mut().zip(&keep) {
                    if !keep {
                        *slot = None;
                    }
                    held += usize::from(slot.is_some());
                }
            });
            self.requested.update_value(|r| r.iter_mut().zip(&keep).for_each(|(r, keep)| *r &= keep));
            self.held.set_value(held);
        }
        let missing: Vec<u32> = self.rows.with_untracked(|cache| {
            self.requested.with_value(|pending| {
                wanted
                    .into_iter()
                    .filter(|&i| {
                        let i = i as usize;
                        matches!(cache.get(i), Some(None)) && pending.get(i) == Some(&false)
                    })
                    .collect()
            })
        });
        if !missing.is_empty() {
            self.requested.update_value(|pending| {
                for &i in &missing {
                    if let Some(p) = pending.get_mut(i as usize) {
                        *p = true;
                    }
                }
            });
            request.run(missing);
        }
    }
}

/// The virtualised preview of `ready`.
#[component]
pub(super) fn Preview(
    /// The parsed file.
    ready: Arc<Ready>,
    /// The rows received so far.
    cache: RowCache,
    /// Whether only rows with errors are listed.
    #[prop(into)]
    errors_only: Signal<bool>,
    /// Asks the parser for rows by index.
    request: Callback<Vec<u32>>,
    /// The valid rows whose ids are registered already, once the server said.
    existing: Signal<Option<Arc<Existing>>>,
) -> impl IntoView {
    let expanded = RwSignal::new(HashSet::<u32>::new());
    let scroller = NodeRef::<leptos::html::Div>::new();
    let top = RwSignal::new(0usize);
    let columns = ready.overview.header.len();

    let index_at = {
        let ready = ready.clone();
        move |pos: usize, errors_only: bool| -> Option<u32> {
            if errors_only { ready.error_rows.get(pos).copied() } else { u32::try_from(pos).ok() }
        }
    };
    let count = {
        let ready = ready.clone();
        Memo::new(move |_| if errors_only.get() { ready.error_rows.len() } else { ready.overview.summary.rows })
    };
    let range = Memo::new(move |_| {
        let n = count.get();
        let first = top.get() / ROW_HEIGHT;
        (first.saturating_sub(OVERSCAN).min(n), (first + VISIBLE + OVERSCAN).min(n))
    });

    // A new filter starts at the top.
    Effect::new(move |previous: Option<bool>| {
        let now = errors_only.get();
        if previous.is_some_and(|p| p != now) {
            if let Some(el) = scroller.get_untracked() {
                el.set_scroll_top(0);
            }
            top.set(0);
        }
        now
    });
    {
        let index_at = index_at.clone();
        Effect::new(move |_| {
            let (start, end) = range.get();
            let errors_only = errors_only.get();
            let n = count.get();
            let wanted = (start.saturating_sub(PREFETCH)..(end + PREFETCH).min(n))
                .filter_map(|p| index_at(p, errors_only))
                .collect();
            cache.request_missing(wanted, request);
        });
    }
    let items = Memo::new(move |_| {
        let (start, end) = range.get();
        let errors_only = errors_only.get();
        let existing = existing.get();
        let existing_row = |i: u32| existing.as_ref().and_then(|e| e.rows.get(&i).copied());
        (start..end)
            .filter_map(|pos| index_at(pos, errors_only).map(|i| (pos, i, cache.get(i), existing_row(i))))
            .collect::<Vec<_>>()
    });
    let spacer_above = move || format!("{}px", range.get().0 * ROW_HEIGHT);
    let spacer_below = move || format!("{}px", count.get().saturating_sub(range.get().1) * ROW_HEIGHT);
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            top.set(usize::try_from(el.scroll_top()).unwrap_or(0));
        }
    };
    // Through the CSSOM (`style:width`), which the CSP allows; a `style` attribute it blocks.
    let width = format!("{}rem", 4 + 26 + 9 * columns);
    let header =
        ready.overview.header.iter().map(|h| view! { <th scope="col" title=h.clone()>{h.clone()}</th> }).collect_view();
    let span = (columns + 2).to_string();
    let span_below = span.clone();

    view! {
        <div
            class="vscroll"
            node_ref=scroller
            on:scroll=on_scroll
            tabindex="0"
            role="region"
            aria-label="Rows of the file"
        >
            <table class="preview" style:width=width aria-rowcount=move || (count.get() + 1).to_string()>
                <thead>
                    <tr aria-rowindex="1">
                        <th scope="col" class="line">"Line"</th>
                        <th scope="col" class="problems">"Problems"</th>
                        {header}
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true"><td colspan=span.clone() style:height=spacer_above></td></tr>
                    <For
                        each=move || items.get()
                        key=|(pos, i, row, existing)| (*pos, *i, row.is_some(), *existing)
                        let((pos, _index, row, existing))
                    >
                        {row_view(pos, row, columns, existing, expanded)}
                    </For>
                    <tr class="spacer" aria-hidden="true"><td colspan=span_below style:height=spacer_below></td></tr>
                </tbody>
            </table>
        </div>
    }
}

/// One row: line number, its problems (and whether its id is registered already: `existing`
/// says, with whether it is a certificate device), and the cells (formulas flagged).
fn row_view(
    pos: usize,
    row: Option<Arc<RowView>>,
    columns: usize,
    existing: Option<bool>,
    expanded: RwSignal<HashSet<u32>>,
) -> AnyView {
    let index = (pos + 2).to_string();
    let Some(row) = row else {
        return view! { <tr class="pending" aria-rowindex=index><td colspan=(columns + 2).to_string()>"…"</td></tr> }
            .into_any();
    };
    let class = match (row.errors > 0, row.warnings > 0, existing.is_some()) {
        (true, _, _) => "invalid",
        (false, true, true) => "warned existing",
        (false, true, false) => "warned",
        (false, false, true) => "existing",
        (false, false, false) => "",
    };
    let cells = (0..columns)
        .map(|i| {
            let value = row.cells.get(i).cloned().unwrap_or_default();
            let formula = bulk::is_formula(&value);
            let title = value.clone();
            view! {
                <td class:formula=formula title=title>
                    {formula.then(|| view! {
                        <span class="formula-flag" role="img" aria-label="Formula" title="Starts with = + - or @: a spreadsheet would run it as a formula">"ƒx"</span>
                    })}
                    {value}
                </td>
            }
        })
        .collect_view();
    let mut texts: Vec<(&str, String)> = row
        .issues
        .iter()
        .map(|i| {
            (
                if i.severity == Severity::Error { "problem error" } else { "problem warning" },
                match &i.column {
                    Some(c) => format!("{c}: {}", i.message),
                    None => i.message.clone(),
                },
            )
        })
        .collect();
    // What the server will do with a row whose id is registered: update it (a certificate
    // device has no credentials, so nothing of that kind changes).
    match existing {
        Some(true) => texts.push((
            "problem note",
            "Already registered: its name, type and properties will be updated (it has no credentials)".into(),
        )),
        Some(false) => texts.push((
            "problem note",
            "Already registered: its name, type, properties and password will be updated".into(),
        )),
        None => {}
    }
    let title = texts.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n");
    let has_problems = !texts.is_empty();
    let problems = texts.into_iter().map(|(class, text)| view! { <span class=class>{text}</span> }).collect_view();
    let row_index = row.index;
    let open = move || expanded.with(|e| e.contains(&row_index));
    let toggle = move |_| {
        expanded.update(|e| {
            if !e.remove(&row_index) {
                e.insert(row_index);
            }
        })
    };
    let problems_id = format!("problems-{row_index}");
    let button = has_problems.then(|| {
        view! {
            <button
                type="button"
                class="expand"
                aria-expanded=move || open().to_string()
                aria-controls=problems_id.clone()
                aria-label=format!("All problems of line {}", row.line)
                on:click=toggle
            >
                {move || if open() { "\u{2212}" } else { "+" }}
            </button>
        }
    });
    view! {
        <tr class=class class:expanded=open aria-rowindex=index>
            <th scope="row" class="line">{row.line}</th>
            <td class="problems" title=title>
                {button}
                <span class="problem-list" id=problems_id>{problems}</span>
            </td>
            {cells}
        </tr>
    }
    .into_any()
}
