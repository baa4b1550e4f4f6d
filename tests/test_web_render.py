"""Display helpers: escaping (no markup from users or documents survives) and highlighting."""

from __future__ import annotations

from rag.models import Answer, Citation
from web.render import chat_message, highlight, location, markdown_text, sources_html
from web.uploads import safe_filename

PASSAGE = ("Läkaren på BMM arbetar med graviditetshälsovård.\nBehovet av läkarinsats för den "
           "basala mödrahälsovården beräknas till 3 timmar per vecka för 100\ninskrivna gravida "
           "kvinnor. För att bibehålla kvaliteten kan vårdcentralen köpa tjänsten.")


def citation(n: int = 1, quote: str = "", **fields: object) -> Citation:
    values: dict[str, object] = {
        "n": n, "document": "doc", "title": "Titel <b>", "region": "Region Värmland",
        "section": "1.2.3", "heading": "BMM", "page": None, "lines": "254–266",
        "quote": quote, "chunk_id": f"doc:{n}", "score": 0.5}
    return Citation.model_validate({**values, **fields})


def test_markdown_text_neutralises_markup_and_markdown() -> None:
    text = markdown_text('<script>alert("x")</script> **fet** [a](javascript:x) `kod` & 1.2.3')
    assert "<script>" not in text and "**" not in text and "](" not in text
    assert text.replace("\\", "") == '<script>alert("x")</script> **fet** [a](javascript:x) ' \
                                      "`kod` & 1.2.3"


def test_highlight_marks_the_quote_across_line_breaks_and_escapes_the_rest() -> None:
    quote = ("Behovet av läkarinsats för den basala mödrahälsovården beräknas till 3 timmar per "
             "vecka för 100 inskrivna gravida kvinnor.")
    marked = highlight(PASSAGE + " <img src=x>", quote)
    assert marked.count("<mark>") == 1
    inside = marked.split("<mark>")[1].split("</mark>")[0]
    assert inside.startswith("Behovet") and inside.endswith("kvinnor.")
    assert "100\ninskrivna" in inside
    assert "&lt;img src=x&gt;" in marked and "<img" not in marked


def test_highlight_marks_each_sentence_of_a_joined_quote() -> None:
    quote = ("Läkaren på BMM arbetar med graviditetshälsovård. För att bibehålla kvaliteten kan "
             "vårdcentralen köpa tjänsten.")
    assert highlight(PASSAGE, quote).count("<mark>") == 2


def test_highlight_without_a_match_shows_plain_escaped_text() -> None:
    assert highlight("a < b", "finns inte i texten alls") == "a &lt; b"


def test_location_prefers_page_then_lines() -> None:
    assert location(citation(page=12)) == "avsnitt 1.2.3 BMM · s. 12"
    assert location(citation()) == "avsnitt 1.2.3 BMM · rad 254–266"
    assert location(citation(section="", heading="", lines="")) == ""


def test_source_cards_are_numbered_expandable_and_escaped() -> None:
    answer = Answer(question="q", answer="Svar [1] [2]", refused=False,
                    citations=[citation(1, "3 timmar per vecka"), citation(2, "saknas",
                                                                          section='1"><x')])
    html = sources_html(answer, {"doc:1": PASSAGE})
    assert html.count("<details") == 2 and "[1]" in html and "[2]" in html
    assert "Titel &lt;b&gt;" in html and "Titel <b>" not in html
    assert 'data-section="1&quot;&gt;&lt;x"' in html
    assert "<mark>3 timmar per vecka</mark>" in html
    assert "<mark>saknas</mark>" in html  # no passage text: the quote alone


def test_refusal_shows_the_headline_and_nearest_passages() -> None:
    answer = Answer(question="q", answer="Det framgår inte av dokumenten.", refused=True,
                    nearest=[citation(1, "Läkaren på BMM …")])
    html = sources_html(answer, {"doc:1": PASSAGE})
    assert "Det framgår inte av dokumenten." in html and "sd-refusal" in html
    assert "<mark>Läkaren på BMM</mark>" in html
    assert "Närmaste avsnitt" in chat_message(answer)


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert safe_filename("C:\\Users\\x\\Rutin.PDF") == "Rutin.pdf"
    assert safe_filename("Fo\u0308r\u202e.md") == "För.md"
    assert safe_filename("....txt") == "dokument.txt"
    assert safe_filename("") == "dokument"
    assert safe_filename("ingen-filandelse") == "ingen-filandelse"
