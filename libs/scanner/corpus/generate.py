"""Write the scanner's labelled corpus: `train.jsonl` and `test.jsonl` beside this file.

Every conversation is made up for the project from the templates below (no downloaded data),
with a fixed seed, so `make corpus` rewrites the same files. Each template list is split in
two by position (every third entry goes to test), and each split's conversations use only its
own templates: the test split measures phrasings the rules and model never saw in training.
Chat noise (lower case, dropped apostrophes, `u`/`ur`, stretched letters, a lost letter) is
applied to both splits alike.

Labelling policy, as a moderator would read it:
- a message carries the indicators it expresses in its context (a guardian's "you look
  lovely" carries none; a stranger adult's does);
- `alert_from` is the first message where a conversation alert is warranted: a second
  distinct grooming indicator from an adult stranger or much older minor (or a first
  sexual, image or secret-meeting one); a first self-harm message; a second bullying message
  or a first threat; never for personal details swapped between peers.

This module is long because it is the corpus's text: templates, one per line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEED = 20261201
HERE = Path(__file__).resolve().parent
Message = tuple[str, str, list[str]]  # sender, text, labels

NAMES = [
    "Amira",
    "Ben",
    "Chloe",
    "Dev",
    "Ellie",
    "Finn",
    "Grace",
    "Harvey",
    "Isla",
    "Jay",
    "Kai",
    "Leah",
    "Max",
    "Nia",
    "Oscar",
    "Priya",
    "Quinn",
    "Rosie",
    "Sami",
    "Tia",
    "Usman",
    "Vic",
    "Will",
    "Yasmin",
    "Zak",
    "Mo",
    "Lily",
    "Ruby",
    "Theo",
    "Aisha",
]
ADULT_NAMES = ["Dean", "Mark", "Steve", "Gaz", "Tony", "Lee", "Craig", "Paul", "Rob", "Jason"]
STAFF_NAMES = ["Ms Khan", "Sam", "Mr Hughes", "Coach Reid", "Jodie", "Miss Patel", "Tom"]
APPS = ["snap", "snapchat", "whatsapp", "telegram", "insta", "discord", "kik", "signal"]
GIFTS = ["robux", "vbucks", "a gift card", "£50", "some money", "a new phone", "a top up"]
SCHOOLS = [
    "Oakwood Academy",
    "St Mary's High School",
    "Riverside Primary",
    "Hillcrest School",
    "Kingsway Academy",
    "Greenfield High",
    "Parkside Primary School",
    "Westbrook College",
]
PLACES = ["the park", "the shopping centre", "McDonald's", "the bus station", "the cinema"]
STREETS = ["14 Elm Road", "3 Mill Lane", "27 Station Street", "8 Church Close", "51 Park Avenue"]
POSTCODES = ["M1 1AE", "LS6 2QT", "B15 3TN", "SW1A 1AA", "CF10 3NP", "G12 8QQ", "NE1 7RU"]
PHONES = ["07700 900123", "07700 900456", "07911 123456", "07123 456789", "+44 7700 900789"]
HANDLES = ["@jess_xo", "@maxgamer09", "@lily.b.2013", "@finn_fc", "@ruby_rose"]
EMAILS = ["jess2013@mail.com", "maxy09@example.com", "lilyb@example.co.uk"]
GAMES = ["fortnite", "minecraft", "roblox", "fifa", "among us"]

# --- grooming: one list per indicator ---------------------------------------------------
GROOMING: dict[str, list[str]] = {
    "grooming.flattery": [
        "you're so mature for your age honestly",
        "you're not like other girls your age, you actually get it",
        "I've never met anyone like you before",
        "you're really pretty you know that?",
        "nobody understands you like I do",
        "your parents don't really appreciate you do they",
        "we have a special connection, I can feel it",
        "you can tell me anything, I'm always here for you",
        "you seem way older than your age",
        "you're gorgeous, bet all the boys say that",
        "I think I'm falling for you",
        "you're my special girl",
        "honestly you're so cute in your profile pic",
        "you're special to me, more than anyone",
        "I get you better than your friends do",
        "you deserve someone who treats you properly",
        "you're stunning, seriously",
        "I think about you all the time",
        "you're so much smarter than kids your age",
        "your mum doesn't listen to you, I do",
        "you're perfect the way you are",
    ],
    "grooming.personal_probe": [
        "how old are you btw?",
        "what school do you go to?",
        "where do you live then?",
        "are you home alone right now?",
        "what year are you in at school?",
        "is anyone else home with you?",
        "what time do your parents get home from work?",
        "what area are you in?",
        "are you in your room on your own?",
        "do you have a boyfriend?",
        "asl?",
        "where abouts are you from",
        "do your parents check your phone?",
        "which school are you at?",
        "are your mum and dad in?",
        "what's your address, I want to post you something",
        "are you by yourself tonight?",
        "what time does your mum go to bed?",
        "have you ever had a boyfriend?",
        "how young are you, you look about 14",
        "send me your location",
    ],
    "grooming.gifts": [
        "I can send you robux if you want",
        "I'll buy you a new phone, yours is ancient",
        "want some free vbucks? I've got loads",
        "I'll give you £50 if you do something for me",
        "I could top up your phone for you",
        "I'll get you a gift card, whatever you want",
        "I'll send you some money for your birthday",
        "I can pay for your battle pass",
        "I'll buy you anything you want honestly",
        "let me get you some credit",
        "I'll transfer you some cash tonight",
        "need robux? I can send 1000 right now",
        "I want to spoil you",
        "I'll send you a present, you deserve it",
        "£20 for you if you're good",
    ],
    "grooming.secrecy": [
        "don't tell your mum about me ok",
        "this is just between us",
        "keep this our little secret",
        "delete these messages after you read them",
        "nobody needs to know we talk",
        "your parents wouldn't understand us",
        "don't mention me to your friends",
        "keep our chats private yeah?",
        "no one will ever know, promise",
        "clear the chat before your dad sees it",
        "don't tell anyone at school about this",
        "it's our secret ok? you promise?",
        "better not tell your parents, they'd overreact",
        "delete our chat just in case",
        "never show anyone these messages",
        "keep it on the down low",
        "you must not tell your family",
        "this stays between you and me",
        "don't say anything to your teacher",
        "our friendship is private, yeah?",
    ],
    "grooming.platform_move": [
        "add me on snap, it's easier",
        "what's your number? I'll text you",
        "let's talk on whatsapp instead",
        "do you have telegram?",
        "this app is monitored, let's move somewhere else",
        "message me on kik",
        "we should chat on a more private app",
        "give me your snapchat",
        "my snap is deano_88, add me",
        "are you on discord?",
        "text me on 07700 900111",
        "can I have your number?",
        "download signal, it's safer for us",
        "hmu on insta",
        "let's switch to snap",
        "send me your whatsapp",
        "we can talk somewhere more private",
        "find me on telegram, same name",
        "drop me your number",
        "chat to me on whatsapp later",
    ],
    "grooming.image_request": [
        "send me a pic of you",
        "can I see what you look like?",
        "send a selfie, just for me",
        "show me a pic in your pyjamas",
        "turn on your camera for me",
        "send me a photo of yourself",
        "take a pic for me, no one else will see it",
        "send me a pic without your top",
        "let me see you, go on cam",
        "send me a cute selfie",
        "show me your outfit",
        "snap me a pic in your uniform",
        "send nudes",
        "prove it with a pic",
        "send a pic back, I sent you one",
        "show me your body",
        "send me a vid of you dancing, just for me",
    ],
    "grooming.meeting": [
        "we should meet up in person",
        "I can pick you up from school",
        "come over to mine, my flat's empty",
        "let's finally meet, just us two",
        "I'll be in your area on Saturday",
        "which station is near you?",
        "we could meet without telling anyone",
        "I'll wait for you outside after school",
        "when can we meet?",
        "meet me alone at the park",
        "I could drive over to you",
        "come to my place, we can watch a film",
        "I want to see you in real life",
        "get in my car and we'll go somewhere",
        "meet me on your own, don't bring anyone",
        "I can come to your town this weekend",
    ],
    "grooming.sexual": [
        "what are you wearing right now?",
        "have you ever done it?",
        "you'd look sexy in that",
        "I want to kiss you all over",
        "do you touch yourself?",
        "are you a virgin?",
        "take it off for me",
        "you make me feel good",
        "you turn me on so much",
        "I'm thinking about you naked",
        "you've got a hot body",
        "have you done it before with anyone?",
    ],
}
OPENERS = [
    "hey, saw your post, you're really good at drawing",
    "hi! how's your day going",
    "hey you play {game} too right?",
    "hi, loved your video",
    "hey what's up",
    "hi there, we matched in the game lobby",
    "you're good at {game}, respect",
    "hey, are you the one from the {game} server?",
    "hi, how was school today",
]
CHILD_REPLIES = [
    "haha thanks",
    "ok",
    "lol",
    "idk",
    "yeah",
    "not really",
    "thanks i guess",
    "why?",
    "i'm 12",
    "year 7",
    "maybe",
    "hmm ok",
    "my mum's downstairs",
    "i have to go soon",
    "that's weird",
    "ok cool",
    "sure",
    "why do you want to know",
    "no",
    "omg thanks",
    "i'm 13",
    "im in year 8",
    "lol ok",
    "what do you mean",
    "ok i guess",
    "aww",
    "i'm not allowed",
    "brb",
    "yeah i play every day",
    "not sure",
]
CHILD_DISCLOSURES = [
    "I go to {school}",
    "i live at {street}",
    "my number is {phone}",
    "my postcode is {postcode}",
    "my snap is {handle}",
    "i'm at {school}",
    "my email is {email}",
    "we live on {street}, near the shop",
    "add me {handle}",
]

# --- self-harm --------------------------------------------------------------------------
SELF_HARM = [
    "i don't want to be here anymore",
    "i keep cutting myself and i can't stop",
    "sometimes i think everyone would be better off without me",
    "i want to die",
    "i took a load of pills last night",
    "i've been hurting myself again",
    "i wrote a goodbye note",
    "what's the point in living",
    "i hate myself so much, i just want it all to end",
    "i've started self harming",
    "i'm going to kill myself",
    "i don't want to wake up tomorrow",
    "i burn my arms so i can feel something",
    "my friend told me she's been cutting herself",
    "i want everything to stop, i can't do this anymore",
    "i wish i was dead",
    "i'm thinking about ending it all",
    "i relapsed, the cuts are bad this time",
    "no one would notice if i was gone",
    "i've been scratching my skin till it bleeds",
    "i'm a burden to everyone",
    "i want to disappear forever",
    "i nearly overdosed",
    "i feel suicidal",
]
SUPPORT = [
    "oh no, are you safe right now?",
    "please talk to someone, you can call childline",
    "i'm here for you, do you want to tell me what happened",
    "that sounds really hard",
    "can you tell an adult you trust?",
    "i care about you so much",
    "do you want me to come over?",
    "thank you for telling me",
    "you're not a burden, honestly",
    "let's talk to Ms Khan tomorrow together",
    "call 999 if you're in danger ok",
    "i'm really worried about you",
]
SAD_BENIGN = [
    "this homework is killing me",
    "i'm so tired today",
    "i could die of embarrassment lol",
    "maths was awful",
    "ugh mondays",
    "i failed my spelling test",
    "i'm dead lol that video",
    "kill me now, double science",
    "my sister is so annoying",
    "i feel a bit down today",
    "i'm so bored",
    "that boss level nearly killed me",
    "i'm literally dying of laughter",
]

# --- bullying ---------------------------------------------------------------------------
BULLYING = [
    "you're so ugly",
    "nobody likes you",
    "everyone hates you, just leave the group",
    "you're a fat loser",
    "kys",
    "go kill yourself",
    "i'm going to beat you up after school",
    "you're such a freak",
    "watch your back tomorrow",
    "we're going to post that video to everyone",
    "you're not invited, no one wants you there",
    "you're pathetic honestly",
    "what a weirdo",
    "no one wants you here",
    "you're disgusting",
    "everyone is laughing at you",
    "leave the chat, you're not one of us",
    "you're worthless",
    "i'll smash your face in",
    "the whole school is going to see this",
    "you're such a waste of space",
    "don't come to school on monday",
    "die in a hole",
    "you absolute loser",
    "you're dead after school",
    "we made a group to laugh at you",
]
VICTIM_REPLIES = [
    "stop it",
    "why are you being like this",
    "leave me alone",
    "please stop",
    "that's mean",
    "i'm telling miss",
    "what did i do",
    "ok",
    "i'm blocking you",
    "why",
]
BANTER = [
    "you're such an idiot lol love you",
    "haha you're so dumb jk",
    "you muppet 😂",
    "you're so weird haha",
    "shut up lol",
    "you're a legend",
    "i'm going to destroy you in {game}",
    "i'll beat you at fifa later",
    "you're dead in {game} tonight haha",
    "omg you're so annoying xx",
    "you're the worst lol",
    "stop being a nerd and come out",
    "that was stupid of me",
    "i'm going to kill you at {game} later",
    "you're a clown haha",
]

# --- benign hard cases ------------------------------------------------------------------
PRACTITIONER = [
    "Hi {child}, it's {staff} from the youth club. Session is Thursday at 6 at the community "
    "centre",
    "Remember to bring your trainers for the football session on Saturday",
    "The minibus leaves from the club car park at 9, parents have the letter",
    "Can you let your mum know the trip form is due Friday?",
    "Well done on the art project, it's going in the display!",
    "We're meeting at the library at 4 for homework club, the whole group is coming",
    "Please ask your parents to sign the consent form for the trip",
    "Your mum said you might be a bit late, that's fine",
    "The club address is 12 Mill Lane, opposite the church, doors open at 6",
    "Great effort today, you were brilliant in the team",
    "Don't forget it's the quiz night next week, bring a friend",
    "Reminder: no session next Tuesday because of half term",
    "If anything's worrying you, you can always talk to me or any of the staff",
    "I'll see you all at the centre on Wednesday, 5pm",
    "Can you send me a photo of the signed form?",
    "The office number is 0161 496 0000 if your parents need us",
    "You did really well in your interview, proud of you",
]
CHILD_TO_STAFF = [
    "ok see you there",
    "thanks!",
    "will do",
    "can i bring my friend?",
    "what time does it end?",
    "my mum will drop me off",
    "yes i'll be there",
    "cool thanks",
    "is it indoors?",
    "sorry i forgot the form",
    "i'll ask my dad",
    "yay",
]
SURPRISE = [
    "don't tell mum, it's a surprise for her birthday",
    "keep it secret from Jay, the party is on Saturday!",
    "shh don't tell anyone about the surprise party",
    "we're planning a surprise for dad, don't say anything to him",
    "nobody tell Rosie, it's her birthday present",
    "don't spoil it, the surprise is at 7",
    "let's keep the party a secret from Max until Friday",
    "don't tell your sister about the card for her birthday",
    "it's a surprise party so keep it quiet from Lily",
    "don't mention the present to Grandma, it's for her birthday",
]
HOMEWORK = [
    "can you send me a pic of the maths homework?",
    "send me a photo of page 42",
    "show me a pic of your science project",
    "can you take a pic of the worksheet",
    "send me a screenshot of the timetable",
    "send me a pic of your dog!!",
    "send a pic of the question 3 answers",
    "take a photo of the notes from today",
    "snap me a pic of the poster you made",
    "show me a pic of the cake you baked",
    "send the photo of our team with the trophy",
    "can you send a pic of the revision sheet",
]
SCHOOL_PASSING = [
    "we played {school} at netball and won!",
    "{school} has a new swimming pool apparently",
    "my cousin's moving to {school} next year",
    "there's a concert at {school} on friday",
    "did you see {school} on the news",
    "we have a match against {school} tomorrow",
    "the bus goes past {school}",
]
FAMILY = [
    "I'll pick you up from school at 3.30",
    "dinner at six, love you",
    "you look beautiful in your prom dress!",
    "I'll get you some new trainers at the weekend",
    "is anyone home? I forgot my keys",
    "don't forget your PE kit",
    "what time does your club finish? I'll collect you",
    "love you, have a good day",
    "can you text me when you get there",
    "grandma says you looked lovely in the photos",
    "I'll be home by 5, there's pasta in the fridge",
    "well done sweetheart, so proud of you",
]
CHAT = [
    "did you watch the match last night",
    "omg that new song is so good",
    "wanna play {game} later?",
    "what did you get for question 5",
    "lol same",
    "i'm going to {place} after school",
    "can't wait for the holidays",
    "my dog ate my sock lol",
    "are you coming to football?",
    "see you at {place} at 4",
    "that film was so good",
    "what are you doing at the weekend",
    "do you want to meet at {place} on saturday?",
    "let's hang out after school",
    "you're so good at drawing",
    "haha that's hilarious",
    "brb dinner",
    "i'm so hungry",
    "my mum said i can come",
    "happy birthday!!",
    "that test was so hard",
    "we should go to the cinema",
    "your hair looks nice today",
    "ok cool",
    "yeah same",
]
PEER_FLIRT = [
    "you're cute ngl",
    "do you like anyone?",
    "i like you",
    "wanna go to the cinema with me?",
    "you looked nice today",
    "are you going to the disco?",
]


def split_of(items: list[str], split: str) -> list[str]:
    """Every third entry is held out for test; the rest train."""
    return [t for i, t in enumerate(items) if (i % 3 == 2) == (split == "test")]


class Writer:
    """Draws one split's conversations from that split's templates."""

    def __init__(self, split: str, rng: random.Random) -> None:
        self.split, self.rng = split, rng

    def pick(self, items: list[str], **slots: str) -> str:
        text = self.rng.choice(split_of(items, self.split))
        return self.fill(text, **slots)

    def fill(self, text: str, **slots: str) -> str:
        values = {
            "game": self.rng.choice(GAMES),
            "school": self.rng.choice(SCHOOLS),
            "place": self.rng.choice(PLACES),
            "street": self.rng.choice(STREETS),
            "postcode": self.rng.choice(POSTCODES),
            "phone": self.rng.choice(PHONES),
            "handle": self.rng.choice(HANDLES),
            "email": self.rng.choice(EMAILS),
            "app": self.rng.choice(APPS),
            "gift": self.rng.choice(GIFTS),
            **slots,
        }
        return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)

    def noisy(self, text: str) -> str:
        """Chat spelling: not every message, never changing what it says."""
        rng = self.rng
        if rng.random() < 0.35:
            text = text.lower().replace("'", "")
        if rng.random() < 0.25:
            for plain, chat in (
                (r"\byou\b", "u"),
                (r"\byour\b", "ur"),
                (r"\bare\b", "r"),
                (r"\bplease\b", "pls"),
                (r"\bbecause\b", "cos"),
            ):
                text = re.sub(plain, chat, text)
        if rng.random() < 0.12:
            text = re.sub(r"([aeiou])\b", lambda m: m.group(1) * 3, text, count=1)
        if rng.random() < 0.08:
            words = text.split()
            long = [i for i, w in enumerate(words) if len(w) > 6 and w.isalpha()]
            if long:
                i = rng.choice(long)
                j = rng.randrange(2, len(words[i]) - 1)
                words[i] = words[i][:j] + words[i][j + 1 :]
                text = " ".join(words)
        return text


def grooming(w: Writer, older_minor: bool = False) -> dict[str, Any]:
    rng = w.rng
    child, groomer = rng.choice(NAMES), rng.choice(ADULT_NAMES)
    band = rng.choice(["under_13", "13_15"]) if not older_minor else "under_13"
    people = {
        groomer: {"role": "young_person", "band": "16_17"}
        if older_minor
        else {"role": "adult", "band": "18_plus"},
        child: {"role": "child" if band == "under_13" else "young_person", "band": band},
    }
    order = ["grooming.flattery", "grooming.personal_probe", "grooming.gifts",
             "grooming.secrecy", "grooming.platform_move", "grooming.image_request",
             "grooming.meeting", "grooming.sexual"]  # fmt: skip
    chosen = [i for i in order if rng.random() < {"grooming.sexual": 0.3}.get(i, 0.6)]
    while len(chosen) < 2:
        extra = rng.choice(order)
        if extra not in chosen:
            chosen.append(extra)
    chosen.sort(key=order.index)
    messages: list[Message] = [(groomer, w.pick(OPENERS), []), (child, w.pick(CHILD_REPLIES), [])]
    for indicator in chosen:
        labels = [indicator]
        text = w.pick(GROOMING[indicator])
        if rng.random() < 0.2:  # two indicators in one message
            other = rng.choice([i for i in chosen if i != indicator])
            text = f"{text} {w.pick(GROOMING[other])}"
            labels.append(other)
        messages.append((groomer, text, labels))
        if rng.random() < 0.2 and indicator == "grooming.personal_probe":
            messages.append((child, w.pick(CHILD_DISCLOSURES), ["personal_info"]))
        else:
            messages.append((child, w.pick(CHILD_REPLIES), []))
    return conversation(people, messages, rng)


def self_harm(w: Writer) -> dict[str, Any]:
    rng = w.rng
    child = rng.choice(NAMES)
    friend_is_staff = rng.random() < 0.3
    other = rng.choice(STAFF_NAMES) if friend_is_staff else rng.choice(NAMES)
    band = rng.choice(["under_13", "13_15", "16_17"])
    people = {
        child: {"role": "young_person" if band != "under_13" else "child", "band": band},
        other: {"role": "practitioner", "band": "18_plus"}
        if friend_is_staff
        else {"role": "young_person", "band": rng.choice(["13_15", "16_17"])},
    }
    messages: list[Message] = []
    for _ in range(rng.randint(0, 3)):
        messages.append((child, w.pick(SAD_BENIGN + CHAT), []))
        messages.append((other, w.pick(CHAT if not friend_is_staff else CHILD_TO_STAFF), []))
    for _ in range(rng.randint(1, 3)):
        messages.append((child, w.pick(SELF_HARM), ["self_harm"]))
        messages.append((other, w.pick(SUPPORT), []))
    return conversation(people, messages, rng)


def bullying(w: Writer) -> dict[str, Any]:
    rng = w.rng
    victim, *bullies = rng.sample(NAMES, 3)
    band = rng.choice(["under_13", "13_15", "16_17"])
    role = "child" if band == "under_13" else "young_person"
    people = {n: {"role": role, "band": band} for n in (victim, *bullies)}
    messages: list[Message] = [(bullies[0], w.pick(CHAT), [])]
    for _ in range(rng.randint(1, 4)):
        messages.append((rng.choice(bullies), w.pick(BULLYING), ["bullying"]))
        if rng.random() < 0.6:
            messages.append((victim, w.pick(VICTIM_REPLIES), []))
    return conversation(people, messages, rng)


def peers(w: Writer, kind: str) -> dict[str, Any]:
    """Two or three minors: chat, banter, flirting, swapped details, homework, a party."""
    rng = w.rng
    names = rng.sample(NAMES, rng.choice([2, 2, 3]))
    band = rng.choice(["under_13", "13_15", "16_17"])
    role = "child" if band == "under_13" else "young_person"
    people = {n: {"role": role, "band": band} for n in names}
    pools: dict[str, list[str]] = {
        "chat": CHAT, "banter": BANTER + CHAT, "flirt": PEER_FLIRT + CHAT,
        "homework": HOMEWORK + CHAT, "surprise": SURPRISE + CHAT, "school": SCHOOL_PASSING + CHAT,
        "sad": SAD_BENIGN + CHAT, "details": CHAT,
    }  # fmt: skip
    messages: list[Message] = []
    for i in range(rng.randint(4, 10)):
        sender = names[i % len(names)]
        if kind == "details" and rng.random() < 0.35:
            messages.append((sender, w.pick(CHILD_DISCLOSURES), ["personal_info"]))
        else:
            messages.append((sender, w.pick(pools[kind]), []))
    if kind == "details" and not any(m[2] for m in messages):
        messages.append((names[0], w.pick(CHILD_DISCLOSURES), ["personal_info"]))
    return conversation(people, messages, rng)


def practitioner(w: Writer) -> dict[str, Any]:
    rng = w.rng
    child, staff = rng.choice(NAMES), rng.choice(STAFF_NAMES)
    band = rng.choice(["under_13", "13_15", "16_17"])
    people = {
        staff: {"role": "practitioner", "band": "18_plus"},
        child: {"role": "child" if band == "under_13" else "young_person", "band": band},
    }
    messages: list[Message] = []
    for _ in range(rng.randint(2, 5)):
        messages.append((staff, w.pick(PRACTITIONER, child=child, staff=staff), []))
        messages.append((child, w.pick(CHILD_TO_STAFF), []))
    return conversation(people, messages, rng)


def family(w: Writer) -> dict[str, Any]:
    rng = w.rng
    child, parent = rng.choice(NAMES), rng.choice(["Mum", "Dad", "Nan", "Auntie Jo"])
    band = rng.choice(["under_13", "13_15", "16_17"])
    people = {
        parent: {"role": "guardian", "band": "18_plus"},
        child: {"role": "child" if band == "under_13" else "young_person", "band": band},
    }
    messages: list[Message] = []
    for _ in range(rng.randint(2, 5)):
        messages.append((parent, w.pick(FAMILY), []))
        messages.append((child, w.pick(CHILD_TO_STAFF + CHAT), []))
    return conversation(people, messages, rng)


DETAILS = [*PHONES, *HANDLES, *EMAILS, *POSTCODES, *STREETS, "07700 900111", "deano_88"]


def conversation(
    people: dict[str, dict[str, str]], messages: list[Message], rng: random.Random
) -> dict[str, Any]:
    """Any message that carries a phone number, handle, email or address is personal_info,
    whoever sends it (a stranger's own number is both a platform move and a detail)."""
    labelled = []
    for sender, text, labels in messages:
        if any(d.lower() in text.lower() for d in DETAILS) and "personal_info" not in labels:
            labels = [*labels, "personal_info"]
        labelled.append((sender, text, labels))
    return {"participants": people, "messages": labelled}


def alert_from(people: dict[str, dict[str, str]], messages: list[Message]) -> int | None:
    """The labelling policy in the module docstring, applied to the labelled messages."""
    grooming_seen: set[str] = set()
    bullying_seen = 0
    for i, (sender, _, labels) in enumerate(messages):
        who = people[sender]
        risky_sender = (who["band"] == "18_plus" and who["role"] == "adult") or (
            who["band"] == "16_17" and any(p["band"] == "under_13" for p in people.values())
        )
        for label in labels:
            if label == "self_harm":
                return i
            if label == "bullying":
                bullying_seen += 1
                if bullying_seen >= 2:
                    return i
            if label.startswith("grooming.") and risky_sender:
                grooming_seen.add(label)
                strong = {"grooming.sexual", "grooming.image_request"}
                if len(grooming_seen) >= 2 or label in strong:
                    return i
    return None


MIX: list[tuple[float, Callable[[Writer], dict[str, Any]]]] = [
    (0.20, grooming),
    (0.04, lambda w: grooming(w, older_minor=True)),
    (0.12, self_harm),
    (0.12, bullying),
    (0.08, lambda w: peers(w, "details")),
    (0.08, practitioner),
    (0.07, family),
    (0.05, lambda w: peers(w, "surprise")),
    (0.06, lambda w: peers(w, "homework")),
    (0.05, lambda w: peers(w, "school")),
    (0.05, lambda w: peers(w, "banter")),
    (0.03, lambda w: peers(w, "flirt")),
    (0.03, lambda w: peers(w, "sad")),
    (0.02, lambda w: peers(w, "chat")),
]


def generate(split: str, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}-{split}")
    writer = Writer(split, rng)
    weights = [m[0] for m in MIX]
    out = []
    for n in range(count):
        make = rng.choices([m[1] for m in MIX], weights)[0]
        raw = make(writer)
        people, messages = raw["participants"], raw["messages"]
        out.append(
            {
                "id": f"{split}-{n:04d}",
                "participants": people,
                "messages": [
                    {"from": s, "text": writer.noisy(t), "labels": sorted(set(labels))}
                    for s, t, labels in messages
                ],
                "alert_from": alert_from(people, messages),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--train", type=int, default=420)
    parser.add_argument("--test", type=int, default=220)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    for split, count in (("train", args.train), ("test", args.test)):
        path = args.out / f"{split}.jsonl"
        with path.open("w") as f:
            for c in generate(split, count, args.seed):
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        print(f"wrote {count} conversations to {path}")


if __name__ == "__main__":
    main()
