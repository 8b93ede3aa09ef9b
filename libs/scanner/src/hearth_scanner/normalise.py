"""Text as the rules and the model read it: lower case, chat spelling undone.

Children write `u`, `ur`, `wanna`, `sooo`, `s3xy`, drop apostrophes and letters; the rules
are written once against plain spelling, and this undoes the common variations first, so a
phrase family covers its misspellings without a pattern per spelling.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from . import default_rules

SLANG = {
    "u": "you",
    "ya": "you",
    "yu": "you",
    "ur": "your",
    "yr": "your",
    "youre": "you are",
    "youll": "you will",
    "youd": "you would",
    "youve": "you have",
    "theyre": "they are",
    "theyll": "they will",
    "shes": "she is",
    "hes": "he is",
    "weve": "we have",
    "isnt": "is not",
    "whos": "who is",
    "urself": "yourself",
    "yourslf": "yourself",
    "urselves": "yourselves",
    "ure": "you are",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plzz": "please",
    "im": "i am",
    "ive": "i have",
    "id": "i would",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "got to",
    "lemme": "let me",
    "gimme": "give me",
    "coz": "because",
    "cuz": "because",
    "cos": "because",
    "bc": "because",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tomoz": "tomorrow",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "txt": "text",
    "msg": "message",
    "msgs": "messages",
    "piccy": "pic",
    "pix": "pics",
    "ppl": "people",
    "luv": "love",
    "gf": "girlfriend",
    "bf": "boyfriend",
    "wat": "what",
    "wot": "what",
    "wen": "when",
    "wer": "where",
    "dat": "that",
    "abt": "about",
    "bday": "birthday",
    "b4": "before",
    "sum1": "someone",
    "some1": "someone",
    "any1": "anyone",
    "ne1": "anyone",
    "no1": "no one",
    "noone": "no one",
    "every1": "everyone",
    "kno": "know",
    "knw": "know",
    "whats": "what is",
    "wats": "what is",
    "wheres": "where is",
    "thats": "that is",
    "its": "it is",
    "whatsap": "whatsapp",
    "watsapp": "whatsapp",
    "watsap": "whatsapp",
    "rn": "right now",
    "hbu": "how about you",
    "wbu": "how about you",
    "ngl": "not going to lie",
    "tbh": "to be honest",
    "idk": "i dont know",
    "m8": "mate",
    "gr8": "great",
    "l8r": "later",
    "2day": "today",
    "2nite": "tonight",
    "tonite": "tonight",
    "nite": "night",
    "dnt": "dont",
    "wont": "will not",
    "cant": "can not",
    "cannot": "can not",
    "nobodys": "nobody is",
    "mums": "mum is",
    "mom": "mum",
    "mam": "mum",
    "mummy": "mum",
    "mommy": "mum",
    "parentz": "parents",
    "rents": "parents",
    "instagram": "insta",
    "ig": "insta",
    "snapchat": "snap",
    "sc": "snap",
    "selfy": "selfie",
    "selfies": "selfie",
    "pictures": "pics",
    "picture": "pic",
    "photos": "pics",
    "photo": "pic",
}
# Words the rules match by stem (`suicid\w*`), spelt out so a dropped letter is still found.
EXTRA_WORDS = (
    "suicidal",
    "suicide",
    "masturbate",
    "overdose",
    "overdosed",
    "harming",
    "wanking",
    "playing",
)
_LEET = str.maketrans({"3": "e", "0": "o", "1": "i", "4": "a", "5": "s", "@": "a", "$": "s"})
_REPEATS = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"[a-z0-9@$£']+|[^\sa-z0-9@$£']")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def _fold(text: str) -> str:
    """Lower case, accents and curly quotes folded, apostrophes dropped, no triple letters."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return text


@cache
def _vocabulary() -> frozenset[str]:
    """The words the rules are written in: what a stretched word is most likely to be."""
    words: set[str] = set(SLANG) | set(EXTRA_WORDS)
    for value in SLANG.values():
        words.update(value.split())
    for rule in default_rules.RULES:
        for pattern in (rule[3], rule[4]):
            plain = re.sub(r"\\[a-zA-Z]", " ", default_rules.expand(pattern))  # not \b, \w
            words.update(re.findall(r"[a-z]+", plain))
    return frozenset(w for w in words if len(w) > 1)


@cache
def _one_letter_short() -> dict[str, str]:
    """Each rule word with one letter dropped -> the word (the commonest typo), where
    unambiguous."""
    found: dict[str, str | None] = {}
    for word in _vocabulary():
        if len(word) < 5:
            continue
        for i in range(len(word)):
            short = word[:i] + word[i + 1 :]
            if short in found and found[short] != word:
                found[short] = None  # two words: no guess
            else:
                found[short] = word
    return {k: v for k, v in found.items() if v is not None}


def _respell(token: str) -> str:
    """`suicdal` -> `suicidal`: a word of 4+ letters the rules do not know, missing one
    letter of a word they do, is taken as that word."""
    if len(token) < 4 or not token.isalpha() or token in _vocabulary():
        return token
    return _one_letter_short().get(token, token)


def _unstretch(token: str) -> str:
    """`sooo` -> `so`, `killll` -> `kill`, `seeee` -> `see`: the form the rules know."""
    once = _REPEATS.sub(r"\1", token)
    twice = _REPEATS.sub(r"\1\1", token)
    vocabulary = _vocabulary()
    if once in vocabulary or twice not in vocabulary:
        return once
    return twice


def _word(token: str) -> str:
    token = token.replace("'", "")
    if _REPEATS.search(token):
        token = _unstretch(token)
    token = _respell(token)
    if token in SLANG:
        return SLANG[token]
    has_letter = any(c.isalpha() for c in token)
    if has_letter and any(c in "01345@$" for c in token) and not token.startswith("@"):
        leet = token.translate(_LEET)
        return SLANG.get(leet, leet)
    return token


def normalise(text: str) -> str:
    """One space between words; punctuation kept as its own token so phrases stop at it."""
    return " ".join(_word(t) for t in _TOKEN.findall(_fold(text)))
