"""Phrasings written in other voices after the rules were (to guard against regressions):
common ways of saying each thing are caught, hard innocent messages are not warned on."""

from __future__ import annotations

import pytest

from hearth_scanner.policy import WarningPolicy
from hearth_scanner.scanner import TextScanner
from hearth_scanner.taxonomy import Participant, category_of

scanner = TextScanner()
policy = WarningPolicy()
PEOPLE = {
    "STRANGER": Participant("adult", "18_plus"),
    "CHILD": Participant("child", "under_13"),
    "TEEN": Participant("young_person", "13_15"),
    "GUARDIAN": Participant("guardian", "18_plus"),
    "PRACTITIONER": Participant("practitioner", "18_plus"),
}
SAID: dict[str, list[str]] = {
    "bullying": [
        "you're ugly",
        "nobody likes you",
        "kill yourself",
        "you're a loser",
        "everyone hates you",
        "you're fat",
        "go away freak",
        "i'm going to beat you up",
        "you're worthless",
        "no one wants you here",
    ],
    "grooming.flattery": [
        "you're so pretty",
        "you're really mature",
        "you're special",
        "you're beautiful",
        "you're so grown up",
        "you're not like other girls",
        "i love talking to you",
        "you're amazing",
        "nobody understands you like me",
        "you're perfect",
    ],
    "grooming.gifts": [
        "i'll send you money",
        "want robux?",
        "i'll buy you a present",
        "i can get you vbucks",
        "i'll buy you anything you want",
        "i'll pay for it",
        "i'll get you a phone",
        "want a gift card?",
        "i'll send you a present",
        "i'll buy you new trainers",
    ],
    "grooming.image_request": [
        "send me a pic",
        "can i see a photo",
        "what do you look like? pic?",
        "send a selfie",
        "show me a picture of you",
        "i want to see you on cam",
        "send me pics of you",
        "can you send a photo in your pjs",
        "take a photo for me",
        "snap me a pic of you",
    ],
    "grooming.meeting": [
        "we should meet",
        "can we meet up",
        "i'll come to you",
        "meet me at the park",
        "let's meet in person",
        "i want to see you in real life",
        "i'll pick you up after school",
        "come round to mine",
        "when can we meet?",
        "let's meet, don't tell anyone",
    ],
    "grooming.personal_probe": [
        "how old are you",
        "where do you live",
        "what school do you go to",
        "are you alone",
        "are your parents home",
        "what's your address",
        "how old r u",
        "where r u from",
        "do you have a boyfriend",
        "are you home alone",
    ],
    "grooming.platform_move": [
        "whats ur sc",
        "let's talk on another app, this one's rubbish",
        "add me on insta its @dan.b",
        "do you use whatsapp",
        "message me on my number instead",
        "i'm on telegram as danny",
        "can we chat on discord tonight",
        "move to snap?",
        "i'll dm you on tiktok",
        "get kik and add me",
    ],
    "grooming.secrecy": [
        "don't tell your parents about me",
        "keep this private between us ok",
        "nobody has to know",
        "delete our chat",
        "you can't tell your mum",
        "it's our secret",
        "don't show anyone",
        "promise you won't say anything",
        "your parents won't get it",
        "shh",
    ],
    "grooming.sexual": [
        "what are you wearing",
        "are you a virgin",
        "send nudes",
        "you're so sexy",
        "have you ever had sex",
        "i want to touch you",
        "take off your top",
        "show me your body",
        "do you touch yourself",
        "i'm horny",
    ],
    "self_harm": [
        "i want to die",
        "i'm going to kill myself",
        "i cut myself",
        "i don't want to live anymore",
        "i want to end it all",
        "i hurt myself",
        "i'm thinking about suicide",
        "i want to disappear",
        "i took pills",
        "nobody would care if i died",
    ],
}
INNOCENT = [
    (
        "PRACTITIONER",
        "TEEN",
        "Hi everyone, reminder the youth club trip is Saturday, meet at the centre at 9, bring a "
        "packed lunch",
    ),
    (
        "PRACTITIONER",
        "TEEN",
        "Can you ask your mum to sign the consent form and send me a photo of it?",
    ),
    (
        "PRACTITIONER",
        "TEEN",
        "Session tonight is at 6:30, we'll be in the sports hall at Oakwood Academy",
    ),
    (
        "PRACTITIONER",
        "TEEN",
        "If you ever want to talk about anything, I'm here, or you can speak to any of the team",
    ),
    ("PRACTITIONER", "TEEN", "Great work today, you're really talented at this"),
    (
        "PRACTITIONER",
        "TEEN",
        "Please don't share the group photos online without asking everyone first",
    ),
    (
        "PRACTITIONER",
        "TEEN",
        "We'll meet at the train station at 8 for the trip, parents can drop you off",
    ),
    ("TEEN", "TEEN", "Can you send me a photo of your homework? I missed the lesson"),
    ("TEEN", "TEEN", "Don't tell Sophie about the party, it's a surprise!"),
    ("TEEN", "TEEN", "We're throwing a surprise party for Mr Jones, keep it secret"),
    ("TEEN", "TEEN", "My school is playing Oakwood High on Friday"),
    ("TEEN", "TEEN", "don't tell anyone but i fancy jamie"),
    ("TEEN", "TEEN", "lol I'm dying, that video"),
    ("TEEN", "TEEN", "this maths homework is going to kill me"),
    ("TEEN", "TEEN", "I'm going to murder you at Mario Kart"),
    ("TEEN", "TEEN", "add me on fortnite"),
    ("TEEN", "TEEN", "meet me at the park after school?"),
    ("TEEN", "TEEN", "send me a selfie of your new haircut!"),
    ("TEEN", "TEEN", "you're so pretty in that photo omg"),
    ("TEEN", "TEEN", "can we facetime later? i need help with the science"),
    ("TEEN", "TEEN", "delete that pic of me its so bad"),
    ("TEEN", "TEEN", "what time do you finish school tomorrow?"),
    ("TEEN", "TEEN", "how old is your brother?"),
    ("TEEN", "TEEN", "ugh i hate myself for forgetting my PE kit"),
    ("TEEN", "TEEN", "I want to die, this exam was so bad lol"),
    ("TEEN", "TEEN", "shut up you idiot haha"),
    ("TEEN", "TEEN", "you're so annoying"),
    ("TEEN", "TEEN", "nobody asked lol"),
    ("TEEN", "TEEN", "we should hang out this weekend"),
    ("TEEN", "TEEN", "my mum said we can go to the cinema, want to come?"),
    ("TEEN", "TEEN", "keep it between us but I think I got the lead in the play"),
    ("GUARDIAN", "CHILD", "what time does your club finish? I'll pick you up"),
    ("GUARDIAN", "CHILD", "you look beautiful sweetheart, have a great day"),
    ("GUARDIAN", "CHILD", "Grandma sent you some money for your birthday, buy something nice"),
    ("GUARDIAN", "CHILD", "Are you home yet? Text me when you're in"),
    ("GUARDIAN", "CHILD", "Don't tell your brother, but we're getting a puppy!"),
    ("GUARDIAN", "CHILD", "I'll buy you a new phone when yours breaks, promise"),
    ("GUARDIAN", "CHILD", "can we video call later, nan wants to see you"),
    ("GUARDIAN", "CHILD", "love you so much, you're my special girl"),
    ("TEEN", "TEEN", "the new girl at Kingsway Academy is really nice"),
    ("TEEN", "TEEN", "I'm so stressed I could cry"),
    ("TEEN", "TEEN", "my cat died today, i'm so sad"),
    ("TEEN", "TEEN", "she said she's going to kill me if i'm late again lol"),
    ("TEEN", "TEEN", "I'll tell everyone the party's at mine"),
    ("TEEN", "TEEN", "did you see the video of the cat lol everyone's going to see it"),
    ("TEEN", "TEEN", "I'll beat you at chess tomorrow"),
    ("TEEN", "TEEN", "can i have your number for the group chat?"),
    ("TEEN", "TEEN", "what's your snap? we're making a group for the team"),
    (
        "PRACTITIONER",
        "CHILD",
        "Hello! It's Sam from Riverside. Our next session is on Thursday, 4-6pm",
    ),
    ("PRACTITIONER", "CHILD", "Can your mum or dad drop you at the hall? We finish at 6"),
    ("PRACTITIONER", "CHILD", "Please send me a photo of the permission slip when it's signed"),
    ("PRACTITIONER", "CHILD", "You were so brave in the show, well done!"),
    ("PRACTITIONER", "CHILD", "I'm just checking in, are you ok? You seemed quiet today"),
    ("PRACTITIONER", "CHILD", "We'll meet outside the school gate at 3:30 for the museum trip"),
    ("PRACTITIONER", "CHILD", "Where are you? The minibus is leaving in 5 minutes"),
    (
        "PRACTITIONER",
        "TEEN",
        "If you're ever worried, you can talk to me or call Childline on 0800 1111",
    ),
    ("PRACTITIONER", "TEEN", "Our WhatsApp group is only for parents, we use this app for you lot"),
    (
        "PRACTITIONER",
        "TEEN",
        "Keep it secret from the others, we're doing a surprise for Jo's leaving party",
    ),
    ("TEEN", "TEEN", "don't tell anyone i still have a teddy lol"),
    ("TEEN", "TEEN", "omg send me a pic of your puppy!!"),
    ("TEEN", "TEEN", "i'm at the park, where are you?"),
    ("TEEN", "TEEN", "can you facetime? i'm stuck on the maths"),
    ("TEEN", "TEEN", "let's meet at the library after school"),
    ("TEEN", "TEEN", "what time do you go to bed? i'm always up late lol"),
    ("TEEN", "TEEN", "how old is your nan? she looks so young"),
    ("TEEN", "TEEN", "i'm going to kill it at the audition tomorrow"),
    ("TEEN", "TEEN", "my mum would kill me if she saw my room"),
    ("TEEN", "TEEN", "nobody's going to believe this lol"),
    ("TEEN", "TEEN", "i got you a present for secret santa!"),
    ("TEEN", "TEEN", "i'll treat you to a milkshake after school"),
    ("TEEN", "TEEN", "you're my best friend, you know that?"),
    ("TEEN", "TEEN", "wish me luck, i'm so nervous"),
    ("TEEN", "TEEN", "lol stop, you're such a clown"),
    ("TEEN", "TEEN", "everyone's going to see our dance at assembly!"),
    ("TEEN", "TEEN", "our secret handshake is the best"),
    ("TEEN", "TEEN", "i'll be outside your house at 8, we'll walk to school"),
    ("GUARDIAN", "CHILD", "I'll be outside school at 3 to get you"),
    ("GUARDIAN", "CHILD", "nan says she's got something special for you"),
    ("GUARDIAN", "CHILD", "do you want me to send you some money for the trip?"),
    ("GUARDIAN", "CHILD", "you're my whole world, love you"),
    ("GUARDIAN", "CHILD", "who's at your friend's house? is her mum home?"),
    ("GUARDIAN", "CHILD", "are you home alone? I'll be back in 10 mins"),
    ("GUARDIAN", "CHILD", "keep the present a secret from dad!"),
    ("TEEN", "TEEN", "delete that photo of me it's so bad"),
    ("TEEN", "TEEN", "my parents are so strict, i can't go"),
    ("TEEN", "TEEN", "we all hate mondays"),
]


@pytest.mark.parametrize(
    ("indicator", "text"), [(i, t) for i, texts in SAID.items() for t in texts]
)
def test_common_phrasings_are_caught(indicator: str, text: str) -> None:
    grooming = "." in indicator
    sender = PEOPLE["STRANGER"] if grooming else PEOPLE["TEEN"]
    reader = PEOPLE["CHILD"] if grooming else PEOPLE["TEEN"]
    scan = scanner.scan(text, sender, [reader])
    assert category_of(indicator) in scan.categories, scan.scores


@pytest.mark.parametrize(("sender", "reader", "text"), INNOCENT)
def test_innocent_messages_warn_no_one(sender: str, reader: str, text: str) -> None:
    who, to = PEOPLE[sender], PEOPLE[reader]
    scan = scanner.scan(text, who, [to])
    assert policy.on_view(scan, to) == [] and policy.on_send(scan, who, [to]) == [], scan.scores
