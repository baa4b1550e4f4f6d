"""Questions as staff type them: the documents' spelling restored, and evidence by meaning."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.runnables import Runnable

from ingest.service import Styrdok
from rag.answer.meaning import FEATURES, MeaningModel, SentenceMeaning, load_model
from rag.chain import ChainInput, build_chain, run
from rag.models import Answer, Chunk, Filters, SearchHit
from rag.store.sentence_vectors import SentenceVectors, embedded_sentences, sentence_key
from rag.text.vocabulary import Vocabulary, respell

TEXTS = [
    "Behovet av läkarinsats beräknas till 3 timmar per vecka. Läkartid på vårdcentralen.",
    "Läkare och läkare på ungdomsmottagningen. Kommunen ansvarar för särskilt boende.",
    "Läkartimmar redovisas inte. Timmar per vecka.",
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.from_texts(TEXTS)


@pytest.mark.parametrize(("typed", "spelled"), [
    ("lakartid", "läkartid"),              # marks left out
    ("vardcentralen", "vårdcentralen"),
    ("ungdomsmotagningen", "ungdomsmottagningen"),  # one letter dropped
    ("lakarinsast", "läkarinsats"),        # marks left out and two letters swapped
    ("läkartid", "läkartid"),              # as the documents write it
    ("kommuner", "kommuner"),             # a common Swedish word is meant as typed
    ("mammografi", "mammografi"),          # nothing near it in the documents
])
def test_a_word_gets_the_documents_spelling(vocabulary: Vocabulary, typed: str,
                                            spelled: str) -> None:
    assert vocabulary.spelling(typed) == spelled


def test_staff_words_become_the_documents_words_unless_the_documents_use_them() -> None:
    vocabulary = Vocabulary.from_texts(["Läkartid och läkaren. Sjuksköterska."])
    assert respell("doktorn och ssk, doktorstid?", vocabulary) == \
        "läkaren och sjuksköterska, läkartid?"
    own = Vocabulary.from_texts(["Doktorn ansvarar. SSK-mottagning."])
    assert respell("doktorn och ssk", own) == "doktorn och ssk"


def test_marks_typed_are_never_taken_away() -> None:
    vocabulary = Vocabulary.from_texts(["Lakartid 5 timmar."])
    assert vocabulary.spelling("läkartid") == "läkartid"
    assert vocabulary.spelling("lakartid") == "lakartid"


def test_a_compound_of_the_documents_words_gets_its_marks_back() -> None:
    vocabulary = Vocabulary.from_texts(["Läkare finns. Timmar per vecka."])
    assert vocabulary.spelling("lakartimmar") == "läkartimmar"


def test_marks_come_back_from_general_swedish_but_a_common_word_stays_as_typed() -> None:
    vocabulary = Vocabulary.from_texts(["Patienten ska bära skorna. Språkkunskaper krävs."])
    # Not in the documents, but "språk" and "åka" are common Swedish and "sprak", "aka" not.
    assert vocabulary.spelling("sprak") == "språk"
    assert vocabulary.spelling("aka") == "åka"
    # "bara" is a common word itself: it is not the documents' "bära".
    assert vocabulary.spelling("bara") == "bara"
    # "for" is rare beside "för".
    assert Vocabulary.from_texts(["För att."]).spelling("for") == "för"


def test_a_word_the_documents_spell_several_ways_is_read_by_its_neighbours() -> None:
    vocabulary = Vocabulary.from_texts([
        "Journalen sparas i tre år. Det är viktigt.", "Vilka år gäller? Det är så.",
        "Ett barn som far illa. " + "Patienten får vård. Den får ersättning. " * 6])
    # "ar" is "år" after "tre", "är" after "det"; without neighbours the likelier "är".
    assert respell("sparas i tre ar", vocabulary) == "sparas i tre år"
    assert respell("det ar viktigt", vocabulary) == "det är viktigt"
    # "far" stands in the documents, but "får" is far more frequent there and in Swedish:
    # "far vi" is "får vi", while "barn som far illa" keeps it.
    assert respell("far vi neka", vocabulary) == "får vi neka"
    assert respell("barn som far illa", vocabulary) == "barn som far illa"
    # marks typed are never changed, and an English question keeps its words
    assert respell("tre år", vocabulary) == "tre år"
    assert respell("how far is it", vocabulary, "en") == "how far is it"


def test_a_question_keeps_its_case_and_an_english_one_its_english_words(
        vocabulary: Vocabulary) -> None:
    # "pa" and "manga" get their marks from general Swedish ("på", "många" are far more
    # common); the documents' own spelling wins where they have one ("Läkartid").
    assert respell("Lakartid pa BMM, hur manga timmar?", vocabulary) == \
        "Läkartid på BMM, hur många timmar?"
    # "for" would be "för" without its marks; in English it is English.
    assert respell("Doctor hours for the vardcentralen?", vocabulary, "en") == \
        "Doctor hours for the vårdcentralen?"


def test_a_question_typed_without_marks_gets_the_rule(corpus_service: Styrdok) -> None:
    typed = corpus_service.ask("hur stort ar behovet av lakarinsats for den basala "
                               "modrahalsovarden?")
    assert not typed.refused and "3 timmar per vecka" in typed.answer
    # "ar" is "är", the far more common of "år" and "är".
    assert typed.interpreted_as == ("hur stort är behovet av läkarinsats för den basala "
                                    "mödrahälsovården?")
    assert typed.citations[0].document == "varmland_forfragningsunderlag-vardval-vardcentral-del2"


# --- evidence by meaning ---------------------------------------------------------------------


class CountingEmbedder:
    """A real-shaped embedder over a tiny fixed space, counting what it embeds."""

    name = "counting"
    dim = 3

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return np.asarray([_direction(text) for text in texts], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return _direction(text)


def _direction(text: str) -> np.ndarray:
    vector = np.array([text.count("läkar") + text.count("doktor"), text.count("timm"),
                       text.count("hund") + 0.1], dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _hit(text: str, heading: str = "Barnmorskemottagning") -> SearchHit:
    chunk = Chunk(chunk_id=f"d:{abs(hash(text))}", document="d", title="D", region="R",
                  section="1.2", heading=heading, text=text, content_hash="h")
    return SearchHit(chunk=chunk, score=1.0)


def test_the_sentence_nearest_in_meaning_is_found_and_embedded_once() -> None:
    embedder = CountingEmbedder()
    meaning = SentenceMeaning(SentenceVectors(embedder), model=None)
    hits = [_hit("Hundar får inte tas med. Läkarinsatsen är 3 timmar per vecka."),
            _hit("Hunden ska vara kopplad.")]
    usable = {(0, 0), (0, 1), (1, 0)}
    nearest = meaning.nearest("doktorstimmar", hits, usable)
    assert nearest is not None and (nearest.hit_index, nearest.position) == (0, 1)
    assert nearest.embedded == "1.2 Barnmorskemottagning: Läkarinsatsen är 3 timmar per vecka."
    assert nearest.margin > 0
    embedded = len(embedder.embedded)
    meaning.nearest("doktorstimmar", hits, usable)
    assert len(embedder.embedded) == embedded  # the second question reads the vectors kept
    # A sentence that may not be evidence (an order to the reader) is never the nearest.
    assert meaning.nearest("doktorstimmar", hits, {(0, 0), (1, 0)}).position == 0  # type: ignore[union-attr]


def test_a_list_item_is_embedded_with_its_lead_in() -> None:
    chunk = _hit("Läkaren ska:\n• 1. ringa upp\n• 2. skriva remiss").chunk
    assert embedded_sentences(chunk)[1] == "1.2 Barnmorskemottagning: Läkaren ska: 1. ringa upp"


def test_without_a_fitted_model_nothing_is_rescued() -> None:
    meaning = SentenceMeaning(SentenceVectors(CountingEmbedder()), model=None)
    meaning.model = None
    assert not meaning.answers(dict.fromkeys(FEATURES, 1.0))
    accepting = MeaningModel(FEATURES, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES),
                             (1.0,) + (0.0,) * (len(FEATURES) - 1), 0.0, threshold=0.6)
    meaning.model = accepting
    assert meaning.answers({**dict.fromkeys(FEATURES, 0.0), "cosine": 1.0})
    assert not meaning.answers({**dict.fromkeys(FEATURES, 0.0), "cosine": -1.0})


def _chain_accepting_every_candidate(service: Styrdok) -> Runnable[ChainInput, Answer]:
    accepting = MeaningModel(FEATURES, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES),
                             (0.0,) * len(FEATURES), 0.0, threshold=0.0)
    meaning = SentenceMeaning(service.store.sentence_vectors, model=accepting)
    return build_chain(service.retriever, service.settings, meaning=meaning)


def test_the_nearest_sentence_answers_staff_wording_and_the_fixed_checks_still_refuse(
        corpus_service: Styrdok) -> None:
    question = "deadline för att kolla passningslistorna?"
    chain = _chain_accepting_every_candidate(corpus_service)
    staff = run(chain, question, Filters())
    assert not staff.refused and "[1]" in staff.answer
    assert staff.citations[0].document == "halland_ivo-aterredovisning-tillsyn-primarvard"
    snapshot = corpus_service.store.snapshot()
    cited = snapshot.chunks[snapshot.position[staff.citations[0].chunk_id]]
    assert staff.citations[0].quote in cited.text  # verbatim
    # "lösenordet" is nowhere in the documents; the fitted model refuses the nearest sentence.
    assert corpus_service.ask("Vad är lösenordet till Cosmic på vårdcentralen?").refused
    # An amount is asked for: a sentence without one is no answer, however near in meaning.
    assert run(chain, "Vad kostar medicinsk fotvård för en patient med diabetes?",
               Filters()).refused


def test_the_fitted_model_is_shipped_and_answers_some_but_not_all_candidates() -> None:
    model = load_model()
    assert model is not None and model.features == FEATURES
    near = {**dict.fromkeys(FEATURES, 0.0), "cosine": 0.93, "margin": 0.05, "lexical": 0.3,
            "best_lexical": 0.3}
    far = {**near, "cosine": 0.78, "margin": 0.0, "lexical": 0.0, "best_lexical": 0.0,
           "rank": 2.0}
    assert model.probability(near) > model.probability(far)
    assert model.probability(far) < model.threshold


def test_ingest_puts_every_sentence_vector_in_the_cache(corpus_service: Styrdok) -> None:
    vectors = corpus_service.store.sentence_vectors
    chunk = corpus_service.store.snapshot().chunks[0]
    texts = embedded_sentences(chunk)
    cached = corpus_service.store.catalog.cached_vectors(vectors.cache_name,
                                                         [sentence_key(text) for text in texts])
    assert len(cached) == len(set(texts))
