"""Care staff's own words for what steering documents name formally.

"doktorn", "ssk", "usk", "hp" are how staff speak in every region, but a förfrågningsunderlag
or a statute writes "läkaren", "sjuksköterska", "undersköterska", "högskolepoäng". No
corpus statistic or word list shipped here (wordfreq, the e5 space: "doktor" is nearer
"specialist" than "läkare" there) learns these, so they are a list. It is general Swedish
healthcare usage, not this corpus's vocabulary, and it is applied only to a word the
documents themselves do not use (see `Vocabulary.spelling`).
"""

from __future__ import annotations

# A staff word and the documents' word for it (inflected the same way).
STAFF_WORDS: dict[str, str] = {
    "doktor": "läkare", "doktorn": "läkaren", "doktorer": "läkare",
    "doktorerna": "läkarna", "doktorns": "läkarens",
    "allmänläkare": "specialist i allmänmedicin",
    "allmänläkaren": "specialisten i allmänmedicin",
    "allmänläkarna": "specialisterna i allmänmedicin",
    "sjukgymnast": "fysioterapeut", "sjukgymnasten": "fysioterapeuten",
    "ssk": "sjuksköterska", "dsk": "distriktssköterska", "usk": "undersköterska",
    "mas": "medicinskt ansvarig sjuksköterska", "hp": "högskolepoäng",
    "leg": "legitimerad", "mkt": "mycket", "pat": "patient",
}
# A staff word as the first part of a compound, and the documents' compound form of theirs:
# "doktorstid" -> "läkartid", "ssk-tid" is not a compound.
STAFF_HEADS: dict[str, str] = {
    "doktors": "läkar", "doktor": "läkar", "sjukgymnast": "fysioterapeut",
}
