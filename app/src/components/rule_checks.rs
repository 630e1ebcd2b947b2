//! The outcome of every acceptance rule for one certificate, one line each: ✓ or ✗, the
//! rule's label and what was found.

use anchorage_common::CheckOutcome;
use leptos::prelude::*;

/// A list of rule outcomes. Each line says "Passed" or "Failed" to assistive technology and
/// carries `data-passed` for styling and tests.
#[component]
pub fn RuleChecks(
    /// The outcomes, in rule order.
    checks: Vec<CheckOutcome>,
) -> impl IntoView {
    view! {
        <ul class="checks">
            {checks
                .into_iter()
                .map(|c| {
                    let passed = c.passed;
                    view! {
                        <li data-passed=if passed { "true" } else { "false" }>
                            <span class="mark" aria-hidden="true">{if passed { "✓" } else { "✗" }}</span>
                            <span>
                                <span class="sr-only">{if passed { "Passed: " } else { "Failed: " }}</span>
                                <span class="rule">{c.rule.label()}</span>
                                ": "
                                <span class="detail">{c.detail}</span>
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
