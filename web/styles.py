"""The UI's CSS: readable source cards, WCAG 2.1 AA contrast in light and dark mode (checked
with axe-core in tests/test_ui_owner_browser.py), and a layout that works at 390 px."""

from __future__ import annotations

UI_CSS = """
.gradio-container { max-width: 980px !important; margin: 0 auto;
  --button-primary-background-fill: #1d4ed8; --button-primary-background-fill-hover: #1e40af;
  --button-primary-border-color: #1d4ed8; --button-primary-text-color: #ffffff;
  --button-primary-text-color-hover: #ffffff;
  --button-cancel-background-fill: #b91c1c; --button-cancel-background-fill-hover: #991b1b;
  --button-cancel-text-color: #ffffff; --button-cancel-text-color-hover: #ffffff;
  --button-cancel-border-color: #b91c1c;
  --input-placeholder-color: #5b6472; --body-text-color-subdued: #4b5563;
  --link-text-color: #1d4ed8; --color-accent: #1d4ed8; --color-accent-soft: #dbeafe;
  --sd-link: #1d4ed8; --sd-subdued: #4b5563; --block-info-text-color: #4b5563;
  --sd-mark-bg: #fde68a; --sd-mark-text: #111827;
  --sd-refusal-bg: #fffbeb; --sd-refusal-border: #b45309; --sd-refusal-text: #1f2937;
  --sd-ok: #166534; --sd-error: #b91c1c; --sd-warn: #92400e; }
.dark .gradio-container, .gradio-container.dark, .dark.gradio-container {
  --button-primary-background-fill: #2563eb; --button-primary-background-fill-hover: #1d4ed8;
  --button-primary-border-color: #2563eb;
  --input-placeholder-color: #a3acb9; --body-text-color-subdued: #b4bcc8;
  --link-text-color: #93c5fd; --color-accent: #60a5fa; --color-accent-soft: #1e3a8a;
  --sd-link: #93c5fd; --sd-subdued: #b4bcc8; --block-info-text-color: #b4bcc8;
  --sd-refusal-bg: #2a2111; --sd-refusal-border: #f59e0b;
  --sd-refusal-text: #fef3c7; --sd-ok: #86efac; --sd-error: #fca5a5; --sd-warn: #fcd34d; }
.gradio-container textarea::placeholder, .gradio-container input::placeholder {
  color: var(--input-placeholder-color) !important; opacity: 1; }
#sd-intro h1 { font-size: 1.6rem; margin: .25rem 0; }
.sd-sources { display: flex; flex-direction: column; gap: .5rem; margin-top: .25rem; }
.sd-heading { font-size: 1rem; margin: 0; }
.sd-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .5rem .75rem; background: var(--background-fill-secondary);
  color: var(--body-text-color); }
.sd-card summary { cursor: pointer; display: flex; flex-wrap: wrap; gap: .15rem .5rem;
  align-items: baseline; list-style-position: outside; }
.sd-n { font-weight: 700; }
.sd-title { font-weight: 600; overflow-wrap: anywhere; }
.sd-meta { color: var(--sd-subdued) !important; font-size: .9em;
  overflow-wrap: anywhere; }
.sd-hint { font-size: .85em; text-decoration: underline; color: var(--sd-link) !important; }
.sd-card[open] .sd-hint { display: none; }
.sd-passage { overflow-wrap: anywhere; margin-top: .5rem; line-height: 1.5; font-size: .95em; }
.sd-passage mark, .sd-card mark { background: var(--sd-mark-bg); color: var(--sd-mark-text);
  padding: 0 .1em; border-radius: 2px; }
.sd-refusal, .sd-refusal * { color: var(--sd-refusal-text) !important; }
.sd-refusal { border-left: 4px solid var(--sd-refusal-border); background: var(--sd-refusal-bg);
  padding: .5rem .75rem; border-radius: 4px; }
.sd-scope { font-size: .85em; margin: .25rem 0 .4rem;
  color: var(--sd-subdued) !important; }
.sd-scope-on strong { color: var(--body-text-color) !important; }
.sd-interpreted { font-size: .85em; margin: 0 0 .4rem; color: var(--sd-subdued) !important; }
.sd-interpreted em { color: var(--body-text-color) !important; }
.sd-notice { margin: .25rem 0; }
.sd-validity { font-size: .85em; color: var(--sd-ok) !important; }
.sd-validity.sd-superseded { color: var(--sd-warn) !important; font-weight: 600; }
.sd-changes del { background: #fee2e2; color: #111827; }
.sd-changes ins { background: #dcfce7; color: #111827; }
.sd-ok { color: var(--sd-ok) !important; } .sd-error { color: var(--sd-error) !important; }
#sd-chat .chatbot.prose { opacity: 1 !important; }
#sd-chat .message-row .sd-answer-extra { margin-top: .5rem; }
.sd-table-wrap { width: 100%; overflow-x: auto; }
.sd-flagged { margin-top: 1rem; overflow-wrap: anywhere; }
.sd-flagged h4 { font-size: .95rem; margin: .5rem 0 .25rem; }
.sd-flagged li { margin: .2rem 0; }
.sd-flagged-inline { color: var(--sd-subdued) !important; }
.sd-flag-note { font-size: .85em; color: var(--sd-subdued) !important; }
.sd-doc-table, .sd-owner-table { border-collapse: collapse; width: 100%; font-size: .95em; }
.sd-doc-table caption, .sd-owner-table caption { text-align: left; font-weight: 600;
  padding: .25rem 0; }
.sd-doc-table th, .sd-doc-table td, .sd-owner-table th, .sd-owner-table td {
  border-bottom: 1px solid var(--border-color-primary); padding: .35rem .5rem;
  text-align: left; vertical-align: top; overflow-wrap: anywhere; }
.sd-item { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .4rem .6rem; }
.sd-item p { margin: .1rem 0; }
.sd-item-question { font-weight: 600; }
.sd-kind { font-weight: 700; }
.sd-yaml textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace !important;
  font-size: .9em !important; }
.tab-container button.selected { color: var(--body-text-color) !important; }
@media (max-width: 640px) {
  .gradio-container { padding: 0 .4rem !important; }
  .tab-container button { padding-left: .4rem !important; padding-right: .4rem !important;
    font-size: .95rem !important; }
  .sd-card { padding: .4rem .5rem; }
  .sd-stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  .sd-stack, .sd-stack tbody, .sd-stack tr, .sd-stack td { display: block;
    width: 100%; box-sizing: border-box; }
  .sd-stack tr { border: 1px solid var(--border-color-primary); border-radius: 8px;
    margin-bottom: .5rem; padding: .25rem 0; }
  .sd-stack td { border: none !important; padding: .15rem .6rem; }
  .sd-stack td::before { content: attr(data-label) ": "; font-weight: 600; }
}
"""
