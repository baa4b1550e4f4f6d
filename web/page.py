"""The served page in Swedish: `lang="sv"` in the HTML itself, Gradio's own strings in
Swedish whatever language the browser prefers, and the key the conversation is stored under.

Gradio picks its UI language from `navigator.language` and ships a Swedish translation with
a few strings missing; `SWEDISH` adds those, and the page pins the language to Swedish before
Gradio starts (all of Styrdok's own text is Swedish, so a mixed page helps nobody).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Gradio strings missing from its Swedish translation (keys as in Gradio's lang/en.json).
SWEDISH = gr.I18n(sv={
    "chatbot.copy_message": "Kopiera meddelandet",
    "chatbot.copied_message": "Meddelandet kopierat",
    "chatbot.complete": "Klart",
    "chatbot.clear": "Rensa",
    "chatbot.conversation": "Samtal",
    "chatbot.chatbot": "Chatt",
    "common.download_all": "Ladda ner alla",
    "common.progress": "Förlopp",
    "common.run": "Kör",
    "common.runs": "Körningar",
    "common.back_to_app": "Appen",
    "common.record": "Spela in",
    "common.stop_recording": "Stoppa inspelningen",
    "common.built_with": "byggd med",
    "file.uploading": "Laddar upp …",
    "upload_text.click_to_upload": "Klicka för att ladda upp",
    "upload_text.drop_file": "Släpp filen här",
})
# Screen-reader labels Gradio writes in English whatever the language, put into Swedish as
# they appear (and a chat message's label without the Markdown escapes Styrdok adds).
SWEDISH_LABELS_JS = """() => {
  document.documentElement.lang = 'sv';
  const fixed = {'chatbot conversation': 'Samtal', 'More tabs': 'Fler flikar',
    'File upload': 'Filuppladdning', 'Click to upload or drop files':
    'Klicka för att ladda upp eller släpp filer här'};
  const prefixes = [["user's message: ", 'Din fråga: '], ["bot's message: ", 'Svar: ']];
  const unescape = (text) => text.replace(/\\\\([!-\\/:-@\\[-`{-~])/g, '$1');
  const fix = (element) => {
    const label = element.getAttribute('aria-label');
    if (!label) { return; }
    let next = fixed[label] || label;
    for (const [english, swedish] of prefixes) {
      if (next.startsWith(english)) { next = swedish + unescape(next.slice(english.length)); }
    }
    if (next !== label) { element.setAttribute('aria-label', next); }
  };
  // Gradio's date picker opens its calendar with an icon-only button that has no name.
  const name = (button) => { if (!button.hasAttribute('aria-label')) {
    button.setAttribute('aria-label', 'Välj datum i kalendern'); } };
  const sweep = (root) => { if (root.querySelectorAll) {
    if (root.hasAttribute && root.hasAttribute('aria-label')) { fix(root); }
    if (root.matches && root.matches('button.calendar')) { name(root); }
    root.querySelectorAll('button.calendar').forEach(name);
    root.querySelectorAll('[aria-label]').forEach(fix); } };
  sweep(document.body);
  new MutationObserver((changes) => { for (const change of changes) {
    if (change.type === 'attributes') { fix(change.target); }
    change.addedNodes.forEach(sweep); } }).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label']});
}"""
PAGE_PATHS = frozenset({"/", ""})
PIN_SWEDISH = (
    "<script>(function(){try{var p=Object.getPrototypeOf(navigator);"
    "Object.defineProperty(p,'language',{get:function(){return 'sv-SE';},configurable:true});"
    "Object.defineProperty(p,'languages',{get:function(){return ['sv-SE','sv'];},"
    "configurable:true});}catch(e){}})();</script>")


def browser_secret(data_dir: Path) -> str:
    """The key the browser's copy of the conversation is encrypted with: one per data dir,
    so a restart or another worker over the same data still reads it."""
    path = data_dir / "ui_secret"
    if not path.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        temporary.chmod(0o600)
        temporary.replace(path)
    return path.read_text(encoding="utf-8").strip()


class SwedishPage:
    """ASGI middleware for the page at /: `lang="en"` becomes `lang="sv"` and the language
    pin is placed first in <head>. The request goes on without Accept-Encoding, so the page
    comes back uncompressed and can be edited (it is a few kB)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or \
                scope.get("path") not in PAGE_PATHS:
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", [])
                                      if k.lower() != b"accept-encoding"]}
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if not headers.get(b"content-type", b"").startswith(b"text/html") or \
                        headers.get(b"content-encoding"):
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = swedish_html(b"".join(chunks))
            kept = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            kept.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": kept})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def swedish_html(body: bytes) -> bytes:
    text = body.decode("utf-8", errors="replace")
    text = text.replace('lang="en"', 'lang="sv"', 1)
    text = text.replace("<head>", "<head>" + PIN_SWEDISH, 1)
    return text.encode("utf-8")


def swedish_page(app: FastAPI) -> FastAPI:
    app.add_middleware(SwedishPage)
    return app
